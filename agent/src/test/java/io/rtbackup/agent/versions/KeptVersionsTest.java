package io.rtbackup.agent.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.ReplicationReport;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.ValidationResult;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.WalkEntry;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kept versions end to end on real rsync: syncs through {@link CommandValidator} and {@link RsyncRunner} into a
 * real authenticated daemon (use chroot = yes) and into a local directory, then restores with {@link Restorer}
 * and prunes with {@link VersionPruner} over rsync alone.
 */
class KeptVersionsTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());

    @TempDir
    static Path shared;
    private static RsyncDaemon daemon;
    private static Path moduleDir;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startDaemon() throws Exception {
        moduleDir = Files.createDirectories(shared.resolve("module"));
        daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(shared.resolve("daemon")).toString()))
            .auth("rtb", PASSWORD).module("backup", BytePaths.utf8(moduleDir.toString())).start();
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) daemon.close();
    }

    /** One source root synced to one destination ("remote": the daemon, "local": a directory) keeping versions. */
    private final class Fixture {
        final byte[] src;
        final ExecConfig config;
        final Destination dest;
        final CommandValidator validator;
        final RsyncRunner runner;
        /** Renames the runner knows of, as the agent knows them from capture. */
        final RecentMoves moves = RecentMoves.standard();
        /** The destination's top: the module's prefix dir on the daemon's disk, or the local directory. */
        final Path top;

        Fixture(String kind, String... extra) throws IOException {
            src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
            String prefix = "t" + Long.toHexString(System.nanoTime());
            Properties p = new Properties();
            if (kind.equals("remote")) {
                p.setProperty("destination.d.url", daemon.url("backup") + "/" + prefix);
                top = moduleDir.resolve(prefix);
            } else {
                top = tmp.resolve("dst");
                p.setProperty("destination.d.url", top.toString());
            }
            p.setProperty("destination.d.keep-versions", "true");
            for (int i = 0; i < extra.length; i += 2) p.setProperty(extra[i], extra[i + 1]);
            config = ExecConfig.from(p, env(kind));
            dest = config.destinations().get("d");
            validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
            runner = new RsyncRunner(config.rsyncPath(), Clock.systemUTC(), moves);
        }

        VersionStore store() {
            return new VersionStore(config.rsyncPath(), dest, HOST + "/" + ROOT);
        }

        Restorer restorer() {
            return new Restorer(store());
        }

        byte[] at(String rel) {
            return at(b(rel));
        }

        byte[] at(byte[] rel) {
            return BytePaths.join(src, rel);
        }

        void write(String rel, String content) throws IOException {
            ByteFs.mkdirs(BytePaths.parent(at(rel)));
            ByteFs.write(at(rel), b(content));
        }

        /** Syncs the listed paths and returns a time after the sync and before the next change. */
        Instant sync(byte[]... paths) throws InterruptedException {
            return run(command().setPaths(wrap(paths)).setFullSync(false).build());
        }

        Instant fullSync() throws InterruptedException {
            return run(command().setPaths(List.of()).setFullSync(true).build());
        }

        private Instant run(SyncCommand cmd) throws InterruptedException {
            ValidationResult v = validator.validate(cmd);
            assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
            ReplicationReport r = runner.replicate(((ValidationResult.Accepted) v).job());
            assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
            return pause();
        }

        Path versionsDir() {
            return top.resolve(VersionLayout.VERSIONS_DIR).resolve(HOST).resolve(ROOT);
        }
    }

    /** A time strictly between what happened before and what happens next (clocks and mtimes differ by ms). */
    private static Instant pause() throws InterruptedException {
        Thread.sleep(15);
        Instant t = Instant.now();
        Thread.sleep(15);
        return t;
    }

    private static SyncCommand.Builder command() {
        return SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId(HOST).setRootId(ROOT)
            .setDestination("d").setIssuedAtMs(System.currentTimeMillis()).setReplyTo("test").setCovers(List.of())
            .setRemotePrefix(null);
    }

    private static List<ByteBuffer> wrap(byte[]... paths) {
        List<ByteBuffer> l = new ArrayList<>();
        for (byte[] p : paths) l.add(ByteBuffer.wrap(p));
        return l;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private byte[] restoreDir(String name) throws IOException {
        return BytePaths.utf8(tmp.resolve("restore-" + name).toString());
    }

    /** Relative path (hex of the bytes) to content, for every file below {@code dir}. */
    private static Map<String, String> files(byte[] dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (ByteFs.lstat(dir).isEmpty()) return out;
        for (WalkEntry e : ByteFs.walk(dir)) {
            if (e.stat().isRegular()) {
                out.put(BytePaths.show(e.relPath()), HexFormat.of().formatHex(ByteFs.readAll(BytePaths.join(dir, e.relPath()))));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote", "local"})
    void aFileWrittenOverwrittenTwiceAndDeletedIsRestoredAtEachTime(String kind) throws Exception {
        Fixture f = new Fixture(kind);
        byte[] rel = b("docs/report.txt");
        Instant beforeCreation = pause();
        // Same size for the first two contents: only the content tells them apart.
        f.write("docs/report.txt", "first version\n");
        Instant t1 = f.sync(b("docs"));
        f.write("docs/report.txt", "second versn\n".replace("versn", "versio"));
        Instant t2 = f.sync(rel);
        f.write("docs/report.txt", "third and longer version\n");
        Instant t3 = f.sync(rel);
        ByteFs.delete(f.at("docs/report.txt"));
        Instant deleted = f.sync(rel);
        assertThat(ByteFs.exists(BytePaths.join(BytePaths.utf8(f.top.toString()), b(HOST + "/" + ROOT + "/docs/report.txt"))))
            .as("the mirror follows the deletion").isFalse();

        Map<Instant, String> expected = Map.of(t1, "first version\n", t2, "second versio\n",
            t3, "third and longer version\n");
        int i = 0;
        for (var e : new TreeMap<>(expected).entrySet()) {
            byte[] to = restoreDir("at" + i++);
            Restorer.Report report = f.restorer().restore(rel, e.getKey(), to);
            assertThat(ByteFs.readAll(BytePaths.join(to, rel))).as("content at %s", e.getKey())
                .isEqualTo(b(e.getValue()));
            assertThat(report.restored()).hasSize(1);
            assertThat(report.warning()).as("nothing was pruned").isEmpty();
            assertThat(files(to)).hasSize(1);
        }
        assertThat(f.store().versions()).as("one version dir per sync that overwrote or deleted").hasSize(3);

        assertThatThrownBy(() -> f.restorer().restore(rel, beforeCreation, restoreDir("before")))
            .isInstanceOf(Restorer.NothingToRestoreException.class).hasMessageContaining("did not exist");
        assertThat(ByteFs.exists(BytePaths.join(restoreDir("before"), rel))).isFalse();
        assertThatThrownBy(() -> f.restorer().restore(rel, deleted, restoreDir("after")))
            .isInstanceOf(Restorer.NothingToRestoreException.class)
            .hasMessageContaining("neither in the mirror nor in any version");

        // Never overwrites: restoring again into the same place fails and leaves the file as it was.
        byte[] again = restoreDir("at0");
        assertThatThrownBy(() -> f.restorer().restore(rel, t3, again)).hasMessageContaining("already exists");
        assertThat(ByteFs.readAll(BytePaths.join(again, rel))).isEqualTo(b("first version\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote", "local"})
    void aFileSavedOverItsOldNameKeepsTheOldVersion(String kind) throws Exception {
        // An editor's save: a temp file renamed over the old name. The rename is known, so the run gets a basis
        // pass (RsyncPlanner); it must leave an existing name to the listed pass, or the version dir would get the
        // basis pass's new copy over the old content it had just saved there.
        Fixture f = new Fixture(kind);
        f.write("doc.txt", "old content\n");
        Instant t1 = f.sync(b("doc.txt"));
        f.write("doc.txt.tmp", "new and longer content\n");
        ByteFs.rename(f.at("doc.txt.tmp"), f.at("doc.txt"));
        f.moves.observe(new CapturedEvent(ROOT, b("doc.txt"), FileOp.MOVE_TO, false, b("doc.txt.tmp"),
            CaptureSource.FANOTIFY, 0, -1));
        Instant t2 = f.sync(b("doc.txt"), b("doc.txt.tmp"));

        byte[] at1 = restoreDir("at1");
        f.restorer().restore(b("doc.txt"), t1, at1);
        assertThat(ByteFs.readAll(BytePaths.join(at1, b("doc.txt")))).isEqualTo(b("old content\n"));
        byte[] at2 = restoreDir("at2");
        f.restorer().restore(b("doc.txt"), t2, at2);
        assertThat(ByteFs.readAll(BytePaths.join(at2, b("doc.txt")))).isEqualTo(b("new and longer content\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote", "local"})
    void aDirectoryIsRestoredAsItWasAndFullSyncsNeverTouchTheVersions(String kind) throws Exception {
        Fixture f = new Fixture(kind);
        f.write("proj/a.txt", "a1");
        f.write("proj/b.txt", "b1");
        f.write("proj/sub/c.txt", "c1");
        f.write("other.txt", "o1");
        Instant t1 = f.fullSync();
        Map<String, String> atT1 = files(f.at("proj"));

        f.write("proj/a.txt", "a2 changed");
        ByteFs.delete(f.at("proj/b.txt"));
        f.write("proj/d.txt", "d2 new");
        f.write("proj/sub/c.txt", "c2");
        Instant t2 = f.fullSync();
        Map<String, String> atT2 = files(f.at("proj"));

        ByteFs.deleteTree(f.at("proj"));
        f.fullSync(); // the ransomware case: the whole directory gone on the source, --delete on the mirror
        List<VersionStamp> before = f.store().versions();
        assertThat(before).hasSize(2);
        f.write("other.txt", "o2");
        f.fullSync();
        assertThat(f.store().versions()).as("full syncs keep adding, never delete version dirs").hasSize(3)
            .containsAll(before);
        assertThat(Files.exists(f.top.resolve(HOST).resolve(ROOT).resolve(VersionLayout.VERSIONS_DIR)))
            .as("versions live outside the mirror").isFalse();
        assertThat(f.versionsDir()).isDirectory();

        byte[] to1 = restoreDir("t1");
        f.restorer().restore(b("proj"), t1, to1);
        assertThat(files(BytePaths.join(to1, b("proj")))).isEqualTo(atT1);
        byte[] to2 = restoreDir("t2");
        Restorer.Report r2 = f.restorer().restore(b("proj"), t2, to2);
        assertThat(files(BytePaths.join(to2, b("proj")))).isEqualTo(atT2);
        assertThat(r2.restored()).hasSize(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote", "local"})
    void hostileNamesSurviveBackupAndRestore(String kind) throws Exception {
        Fixture f = new Fixture(kind);
        List<byte[]> names = new ArrayList<>();
        for (HostileNames.Name n : HostileNames.named()) names.add(n.bytes());
        names.add(b("#comment-like"));
        names.add(b(";semicolon"));
        byte[] dir = b("h\nst\u00e9ile dir");
        ByteFs.mkdirs(f.at(dir));
        for (byte[] n : names) ByteFs.write(f.at(BytePaths.join(dir, n)), BytePaths.concat(b("v1 of "), n));
        Instant t1 = f.sync(dir);
        Map<String, String> atT1 = files(f.at(dir));
        for (byte[] n : names) ByteFs.write(f.at(BytePaths.join(dir, n)), BytePaths.concat(b("v2 of "), n));
        f.sync(dir);
        ByteFs.deleteTree(f.at(dir));
        f.sync(dir);

        byte[] to = restoreDir("hostile");
        Restorer.Report r = f.restorer().restore(dir, t1, to);
        assertThat(r.restored()).hasSize(names.size());
        assertThat(files(BytePaths.join(to, dir))).isEqualTo(atT1).hasSize(names.size());

        // One file with a hostile name on its own.
        byte[] one = BytePaths.join(dir, HostileNames.named().get(0).bytes());
        byte[] toOne = restoreDir("hostile-one");
        f.restorer().restore(one, t1, toOne);
        assertThat(ByteFs.readAll(BytePaths.join(toOne, one)))
            .isEqualTo(BytePaths.concat(b("v1 of "), HostileNames.named().get(0).bytes()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote", "local"})
    void retentionPrunesByCountAndByAgeOverRsync(String kind) throws Exception {
        Fixture f = new Fixture(kind, "destination.d.versions-keep", "2", "destination.d.versions-keep-days", "30");
        for (int i = 0; i < 4; i++) {
            f.write("f.txt", "content " + i);
            f.sync(b("f.txt"));
        }
        List<VersionStamp> made = f.store().versions();
        assertThat(made).hasSize(3);

        // Old stamped dirs (as an agent would have made them weeks ago) and a foreign name prune leaves alone.
        Instant now = Instant.now();
        VersionStamp old40 = VersionStamp.of(now.minus(Duration.ofDays(40)), "old40");
        VersionStamp old31 = VersionStamp.of(now.minus(Duration.ofDays(31)), "old31");
        for (VersionStamp s : List.of(old40, old31)) {
            Files.createDirectories(f.versionsDir().resolve(s.name()).resolve("deep"));
            Files.writeString(f.versionsDir().resolve(s.name()).resolve("deep").resolve("f.txt"), "old");
        }
        Files.createDirectories(f.versionsDir().resolve("not-a-version"));

        VersionPruner pruner = new VersionPruner(f.config, d -> List.of(HOST + "/" + ROOT), Clock.systemUTC());
        VersionPruner.Pruned dry = pruner.pruneAll(java.util.Set.of(), true).get(0);
        assertThat(dry.deleted()).containsExactly(old40, old31, made.get(0));
        assertThat(f.store().versions()).as("dry run deletes nothing").hasSize(5);

        VersionPruner.Pruned done = pruner.pruneAll(java.util.Set.of(), false).get(0);
        assertThat(done.deleted()).containsExactly(old40, old31, made.get(0));
        assertThat(f.store().versions()).containsExactly(made.get(1), made.get(2));
        assertThat(f.versionsDir().resolve("not-a-version")).isDirectory();
        assertThat(f.versionsDir().resolve(old40.name())).doesNotExist();
        Restorer.Report afterPrune = f.restorer().restore(b("f.txt"), Instant.now(), restoreDir("after-prune"));
        assertThat(afterPrune.warning()).as("the count limit is reached: later versions may be gone").isPresent()
            .get().asString().contains("versions-keep=2");

        // Age alone: with no count limit, only what is older than the days goes.
        Fixture byAge = f;
        VersionStamp old45 = VersionStamp.of(now.minus(Duration.ofDays(45)), "old45");
        Files.createDirectories(byAge.versionsDir().resolve(old45.name()));
        ExecConfig ageOnly = ExecConfig.from(props("destination.d.url", f.dest.target().argument(""),
            "destination.d.keep-versions", "true", "destination.d.versions-keep-days", "30"),
            env(kind));
        new VersionPruner(ageOnly, d -> List.of(HOST + "/" + ROOT), Clock.systemUTC()).pruneAll(java.util.Set.of(), false);
        assertThat(f.store().versions()).containsExactly(made.get(1), made.get(2));
        assertThat(f.fullSync()).isNotNull();
        assertThat(ByteFs.readAll(BytePaths.join(BytePaths.utf8(f.top.toString()), b(HOST + "/" + ROOT + "/f.txt"))))
            .isEqualTo(b("content 3"));
    }

    private static Map<String, String> env(String kind) {
        return kind.equals("remote") ? Map.of("RSYNC_PASSWORD_D", PASSWORD) : Map.of();
    }

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1].endsWith("/") && kv[i + 1].length() > 1
            ? kv[i + 1].substring(0, kv[i + 1].length() - 1) : kv[i + 1]);
        return p;
    }
}
