package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real rsync against a local directory and a real rsync daemon on 127.0.0.1. */
class RsyncRunnerTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";

    @TempDir
    static Path shared;
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    private static RsyncDaemon daemon;
    private static Path moduleDir;

    @TempDir
    Path tmp;
    private byte[] src;
    private ExecConfig config;
    private CommandValidator validator;
    private RsyncRunner runner;
    private String prefix;

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

    @BeforeEach
    void setUp() throws IOException {
        src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
        prefix = "t" + Long.toHexString(System.nanoTime());
        Properties p = new Properties();
        p.setProperty("destination.local.url", tmp.resolve("dst").toString());
        p.setProperty("destination.remote.url", remoteUrl());
        p.setProperty("destination.remote.timeout-s", "20");
        p.setProperty("destination.wrongpw.url", remoteUrl());
        config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", PASSWORD,
            "RSYNC_PASSWORD_WRONGPW", "not-the-password"));
        validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    private String remoteUrl() {
        return daemon.url("backup") + "/" + prefix;
    }

    private byte[] replica(String dest) {
        if (dest.equals("local")) return BytePaths.utf8(tmp.resolve("dst").resolve(HOST).resolve(ROOT).toString());
        return BytePaths.utf8(moduleDir.resolve(prefix).resolve(HOST).resolve(ROOT).toString());
    }

    private ReplicationReport run(SyncCommand cmd) {
        ValidationResult v = validator.validate(cmd);
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        return runner.replicate(((ValidationResult.Accepted) v).job());
    }

    private ReplicationReport sync(String dest, byte[]... paths) {
        ReplicationReport r = run(Commands.paths(HOST, ROOT, dest, paths));
        assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
        return r;
    }

    private byte[] at(byte[] rel) {
        return BytePaths.join(src, rel);
    }

    private void write(String rel, String content) throws IOException {
        write(b(rel), b(content));
    }

    private void write(byte[] rel, byte[] content) throws IOException {
        ByteFs.mkdirs(BytePaths.parent(at(rel)));
        ByteFs.write(at(rel), content);
    }

    /** Names that break naive tools: bytes that are not UTF-8, control characters, option look-alikes, globs. */
    static List<byte[]> hostileNames() {
        List<byte[]> names = new ArrayList<>(List.of(
            b("sp ace"), b(" leading"), b("trailing "), b("tab\there"), b("new\nline"), b("cr\rreturn"),
            b("back\\slash"), b("-rf"), b("--delete"), b("*?[ab]"), b("colon:name"), b("quo'te\"s"),
            b("$(touch pwned)"), b("semi;colon|pipe&amp"), b("\u00ff\u00fe not utf-8"), b("\u0001\u001f\u007f ctl"),
            b("caf\u00c3\u00a9 nfc"), b("cafe\u00cc\u0081 nfd"), b("..."), b(".hidden"), b("~tilde"), b("#hash"),
            b("x".repeat(255))));
        return names;
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void hostileNamesReplicateByteExactly(String dest) throws IOException {
        List<byte[]> listed = new ArrayList<>();
        int i = 0;
        for (byte[] name : hostileNames()) {
            write(name, b("content " + i++ + "\n"));
            listed.add(name);
        }
        byte[] dir = b("dir \u00ff\n/sub\\dir/-x");
        write(BytePaths.join(dir, b("f\u00fe")), b("deep"));
        listed.add(BytePaths.join(dir, b("f\u00fe")));
        ByteFs.symlink(b("target \u00ff\nwith bytes"), at(b("link\u00fe")));
        listed.add(b("link\u00fe"));
        write("hard1", "shared inode");
        ByteFs.link(at(b("hard1")), at(b("hard \u00ff2")));
        listed.add(b("hard1"));
        listed.add(b("hard \u00ff2"));
        ByteFs.chmod(at(b("sp ace")), 0640);
        ByteFs.setMtime(at(b("-rf")), 1_234_567_891_123_456_789L);

        ReplicationReport r = sync(dest, listed.toArray(new byte[0][]));
        assertThat(r.stats().filesTransferred()).isGreaterThanOrEqualTo(hostileNames().size());
        Trees.assertSameTree(src, replica(dest));

        // A full-root sync of the same tree changes nothing and still matches.
        ReplicationReport full = run(Commands.full(HOST, ROOT, dest));
        assertThat(full.outcome()).isEqualTo(SyncOutcome.OK);
        Trees.assertSameTree(src, replica(dest));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void deletionsAndDirectoryRenamesConverge(String dest) throws IOException {
        write("a/one", "1");
        write("a/deeper/two", "2");
        write("c/x", "x");
        write("c/y", "y");
        write("e/sub/f", "f");
        write("e/g", "g");
        write("turns-into-dir", "file first");
        assertThat(run(Commands.full(HOST, ROOT, dest)).outcome()).isEqualTo(SyncOutcome.OK);
        Trees.assertSameTree(src, replica(dest));

        ByteFs.rename(at(b("a")), at(b("b")));          // directory rename: old name gone, new name whole
        ByteFs.delete(at(b("c/x")));                      // file deletion
        ByteFs.deleteTree(at(b("e")));                    // directory deletion, listed by its deepest path only
        ByteFs.delete(at(b("turns-into-dir")));
        write("turns-into-dir/inner", "now a dir");
        write("b/deeper/new", "new in renamed dir");

        ReplicationReport r = sync(dest, b("a"), b("b"), b("c/x"), b("e/sub/f"), b("turns-into-dir"));
        assertThat(r.stats().filesDeleted()).isGreaterThanOrEqualTo(4);
        Trees.assertSameTree(src, replica(dest));
        assertThat(ByteFs.lstat(BytePaths.join(replica(dest), b("a")))).isEmpty();
        assertThat(ByteFs.lstat(BytePaths.join(replica(dest), b("e")))).isEmpty();

        // And back: the directory becomes a file again; a deletion listed below a file parent converges too.
        ByteFs.deleteTree(at(b("turns-into-dir")));
        write("turns-into-dir", "file again");
        sync(dest, b("turns-into-dir/inner"));
        Trees.assertSameTree(src, replica(dest));
    }

    /**
     * Concurrent rsyncs into one new replica directory would fail (--mkpath: EEXIST, exit 11; directory scans
     * seeing the other run's temporary files vanish: exit 24); the runner runs them one after the other.
     */
    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void concurrentCommandsIntoOneNewReplicaDirectoryAllSucceed(String dest) throws Exception {
        int n = 4;
        for (int i = 0; i < n; i++) write("f" + i, "content " + i);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            for (int round = 0; round < 3; round++) {
                List<java.util.concurrent.Future<ReplicationReport>> runs = new ArrayList<>();
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                for (int i = 0; i < n; i++) {
                    SyncCommand c = Commands.base(HOST, ROOT, dest).setPaths(List.of(java.nio.ByteBuffer.wrap(
                        b("f" + i)))).setRemotePrefix(HOST + "/round" + round + "/a/b").build();
                    runs.add(pool.submit(() -> {
                        go.await();
                        return run(c);
                    }));
                }
                go.countDown();
                for (var f : runs) {
                    ReplicationReport r = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    assertThat(r.outcome()).as("round %d, error %s", round, r.error()).isEqualTo(SyncOutcome.OK);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void fullSyncMirrorsTheRootIncludingDeletions(String dest) throws IOException {
        write("keep/a", "a");
        write("drop/b", "b");
        write("drop-file", "c");
        assertThat(run(Commands.full(HOST, ROOT, dest)).outcome()).isEqualTo(SyncOutcome.OK);
        ByteFs.deleteTree(at(b("drop")));
        ByteFs.delete(at(b("drop-file")));
        write("keep/new", "n");

        ReplicationReport r = run(Commands.full(HOST, ROOT, dest));

        assertThat(r.outcome()).isEqualTo(SyncOutcome.OK);
        assertThat(r.stats().filesDeleted()).isEqualTo(3);
        Trees.assertSameTree(src, replica(dest));
    }

    /** A new hard link is reported by its new name only; the replica must still share one inode. */
    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void aNewHardLinkListedAloneStaysALinkOnTheReplica(String dest) throws IOException {
        write("dir/original", "linked content");
        write("dir/other", "unrelated");
        sync(dest, b("dir"));
        ByteFs.link(at(b("dir/original")), at(b("dir/new-link")));

        sync(dest, b("dir/new-link"));

        Trees.assertSameTree(src, replica(dest));
        var a = ByteFs.lstat(BytePaths.join(replica(dest), b("dir/original"))).orElseThrow();
        var n = ByteFs.lstat(BytePaths.join(replica(dest), b("dir/new-link"))).orElseThrow();
        assertThat(n.ino()).isEqualTo(a.ino());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void sameSizeRewriteWithinTheSameSecondArrives(String dest) throws IOException {
        write("f", "AAAA");
        sync(dest, b("f"));
        long mtime = ByteFs.lstat(at(b("f"))).orElseThrow().mtimeNs();

        write("f", "BBBB"); // same size, right after the previous sync
        sync(dest, b("f"));
        assertThat(ByteFs.readAll(BytePaths.join(replica(dest), b("f")))).isEqualTo(b("BBBB"));

        // Worst case: same size and an identical timestamp (coarse clock, or a restored mtime). The quick check
        // would call the file unchanged; a listed path is compared by content.
        write("f", "CCCC");
        ByteFs.setMtime(at(b("f")), mtime);
        ByteFs.setMtime(BytePaths.join(replica(dest), b("f")), mtime);
        sync(dest, b("f"));
        assertThat(ByteFs.readAll(BytePaths.join(replica(dest), b("f")))).isEqualTo(b("CCCC"));
        Trees.assertSameTree(src, replica(dest));
    }

    @Test
    void renamedFileUsesTheOldNameAsDeltaBasis() throws IOException {
        byte[] big = new byte[4 << 20];
        new java.util.SplittableRandom(7).nextBytes(big);
        write(b("big.old"), big);
        sync("remote", b("big.old"));
        ByteFs.rename(at(b("big.old")), at(b("big.new")));
        // as the agent knows it from capture (MoveBasis): the listed pass itself has no --fuzzy
        RecentMoves moves = RecentMoves.standard();
        moves.observe(new CapturedEvent(ROOT, b("big.new"), FileOp.MOVE_TO, false, b("big.old"),
            CaptureSource.FANOTIFY, 0, -1));
        runner = new RsyncRunner(config.rsyncPath(), moves);

        ReplicationReport r = sync("remote", b("big.old"), b("big.new"));
        assertThat(r.stats().literalBytes()).as("literal data of a renamed 4 MiB file").isLessThan(64 * 1024);
        Trees.assertSameTree(src, replica("remote"));
    }

    @Test
    void aPathTheDestinationCannotTakeMakesThePartialOutcome() throws Exception {
        write("locked/x", "x");
        write("fine", "f");
        sync("local", b("locked"), b("fine"));
        write("locked/y", "y");
        write("fine", "g");
        Path locked = tmp.resolve("dst").resolve(HOST).resolve(ROOT).resolve("locked");
        chattr("+i", locked); // immutable: rsync's receiver cannot create its temporary file there
        try {
            ReplicationReport r = run(Commands.paths(HOST, ROOT, "local", b("locked/y"), b("fine")));
            assertThat(r.outcome()).isEqualTo(SyncOutcome.PARTIAL);
            assertThat(r.exitCode()).isEqualTo(23);
            assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("Operation not permitted"));
            assertThat(ByteFs.readAll(BytePaths.join(replica("local"), b("fine")))).isEqualTo(b("g"));
        } finally {
            chattr("-i", locked);
        }
    }

    private static void chattr(String flag, Path p) throws Exception {
        Process proc = new ProcessBuilder("chattr", flag, p.toString()).inheritIO().start();
        assertThat(proc.waitFor()).as("chattr %s %s", flag, p).isZero();
    }

    @Test
    void wrongPasswordFailsWithTheDaemonsError() throws IOException {
        write("f", "x");
        ReplicationReport r = run(Commands.paths(HOST, ROOT, "wrongpw", b("f")));
        assertThat(r.outcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(r.exitCode()).isEqualTo(5);
        assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("auth failed"));
    }

    @Test
    void commandTimeoutKillsRsyncAndFails() throws Exception {
        write("f", "x");
        // A "daemon" that accepts and never says a word: rsync waits for its greeting.
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) held.add(silent.accept());
                } catch (IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Properties p = new Properties();
            p.setProperty("destination.silent.url", "rsync://127.0.0.1:" + silent.getLocalPort() + "/m");
            p.setProperty("destination.silent.command-timeout-s", "1");
            p.setProperty("destination.silent.timeout-s", "600");
            ExecConfig cfg = ExecConfig.from(p, Map.of());
            CommandValidator v = new CommandValidator(HOST, Map.of(ROOT, src), cfg.destinations());
            var job = ((ValidationResult.Accepted) v.validate(Commands.paths(HOST, ROOT, "silent", b("f")))).job();

            ReplicationReport r = runner.replicate(job);

            assertThat(r.outcome()).isEqualTo(SyncOutcome.FAILED);
            assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("command timeout").contains("killed"));
            String portArg = ":" + silent.getLocalPort() + "/";
            assertThat(ProcessHandle.current().descendants()
                .filter(h -> h.isAlive() && h.info().arguments().map(a -> String.join(" ", a).contains(portArg))
                    .orElse(false)))
                .as("rsync processes left running").isEmpty();
            for (Socket s : held) s.close();
        }
    }

    /** The destination setting a backup needs: a chrooted module stores symlink targets byte for byte. */
    @Test
    void symlinkTargetsArriveExactlyOnAChrootedModule(@TempDir Path other) throws Exception {
        ByteFs.symlink(b("../outside/\u00ff"), at(b("rel-link")));
        ByteFs.symlink(b("/etc/passwd"), at(b("abs-link")));
        try (LoopbackDaemon d = LoopbackDaemon.start(other, LoopbackDaemon.Symlinks.EXACT_CHROOT)) {
            Properties p = new Properties();
            p.setProperty("destination.chrooted.url", d.url(""));
            ExecConfig cfg = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_CHROOTED", d.password));
            CommandValidator v = new CommandValidator(HOST, Map.of(ROOT, src), cfg.destinations());
            var job = ((ValidationResult.Accepted) v.validate(Commands.paths(HOST, ROOT, "chrooted", b("rel-link"),
                b("abs-link")))).job();
            assertThat(runner.replicate(job).outcome()).isEqualTo(SyncOutcome.OK);
            byte[] replicaRoot = BytePaths.utf8(d.modulePath.resolve(HOST).resolve(ROOT).toString());
            assertThat(ByteFs.readlink(BytePaths.join(replicaRoot, b("rel-link")))).isEqualTo(b("../outside/\u00ff"));
            assertThat(ByteFs.readlink(BytePaths.join(replicaRoot, b("abs-link")))).isEqualTo(b("/etc/passwd"));
            Trees.assertSameTree(src, replicaRoot);
        }
    }

    /**
     * The destination pitfall: a module with {@code use chroot = no} munges symlinks by default, and with
     * {@code munge symlinks = no} still strips a leading "/" and escaping "..". Either way a restore would produce
     * different links; the replica check has to notice.
     */
    @ParameterizedTest
    @ValueSource(strings = {"MUNGED", "SANITIZED"})
    void anUnchrootedModuleAltersSymlinksDetectably(String mode, @TempDir Path other) throws Exception {
        try (LoopbackDaemon d = LoopbackDaemon.start(other, LoopbackDaemon.Symlinks.valueOf(mode))) {
            Properties p = new Properties();
            p.setProperty("destination.unchrooted.url", d.url(""));
            ExecConfig cfg = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_UNCHROOTED", d.password));
            CommandValidator v = new CommandValidator(HOST, Map.of(ROOT, src), cfg.destinations());
            ByteFs.symlink(b("/etc/passwd"), at(b("abs-link")));
            var job = ((ValidationResult.Accepted) v.validate(Commands.paths(HOST, ROOT, "unchrooted",
                b("abs-link")))).job();
            assertThat(runner.replicate(job).outcome()).isEqualTo(SyncOutcome.OK);
            byte[] replicaRoot = BytePaths.utf8(d.modulePath.resolve(HOST).resolve(ROOT).toString());
            byte[] arrived = ByteFs.readlink(BytePaths.join(replicaRoot, b("abs-link")));
            assertThat(arrived).isEqualTo(mode.equals("MUNGED") ? b("/rsyncd-munged//etc/passwd") : b("etc/passwd"));
            assertThatThrownBy(() -> Trees.assertSameTree(src, replicaRoot)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("abs-link");
        }
    }

    @Test
    void argumentsNeverCarryThePasswordOrPaths() throws IOException {
        write("secret-present", "p");
        var job = ((ValidationResult.Accepted) validator.validate(
            Commands.paths(HOST, ROOT, "remote", b("secret-name"), b("secret-present")))).job();
        List<RsyncPlanner.Pass> passes = runner.plan(job);
        // present paths are listed on stdin; missing ones go in a deletion pass whose include rules are on stdin
        // (not --delete-missing-args, which Debian 12's rsync 3.2.7 refuses for a listed "./path")
        assertThat(passes).hasSize(2);
        assertThat(passes.get(0).args()).contains("--files-from=-", "--from0", "--ignore-times");
        assertThat(passes.get(1).args()).contains("--from0", "--include-from=-", "--exclude=*", "--delete")
            .doesNotContain("--files-from=-");
        for (RsyncPlanner.Pass pass : passes) {
            assertThat(pass.args()).noneMatch(a -> a.contains(PASSWORD)).noneMatch(a -> a.contains("secret-"))
                .contains("--mkpath", "-H")
                .doesNotContain("--inplace", "--delete-missing-args");
            assertThat(pass.args().get(pass.args().size() - 1))
                .isEqualTo(remoteUrl() + "/" + HOST + "/" + ROOT + "/");
        }
    }

    @Test
    void noRunCarriesBothHardLinksAndFuzzy() throws IOException {
        // rsync 3.2.7 -H --fuzzy can deadlock when a listed file gets hard-linked mid-run; see RsyncPlanner.basisArgs
        write("plain", "p");
        write("linked", "l");
        write("d/new", "renamed in its directory");
        write("e/moved", "moved from d");
        ByteFs.link(BytePaths.join(src, b("linked")), BytePaths.join(src, b("linked-too")));
        RecentMoves moves = RecentMoves.standard();
        moves.observe(new CapturedEvent(ROOT, b("d/new"), FileOp.MOVE_TO, false, b("d/old"), CaptureSource.FANOTIFY,
            0, -1));
        moves.observe(new CapturedEvent(ROOT, b("e/moved"), FileOp.MOVE_TO, false, b("d/moved"),
            CaptureSource.FANOTIFY, 0, -1));
        RsyncRunner withMoves = new RsyncRunner(config.rsyncPath(), moves);
        var plain = ((ValidationResult.Accepted) validator.validate(Commands.paths(HOST, ROOT, "remote", b("plain"))))
            .job();
        var linked = ((ValidationResult.Accepted) validator.validate(Commands.paths(HOST, ROOT, "remote", b("linked"))))
            .job();
        var renamed = ((ValidationResult.Accepted) validator.validate(Commands.paths(HOST, ROOT, "remote", b("d/new"),
            b("d/old"), b("e/moved"), b("d/moved"), b("linked")))).job();
        var full = ((ValidationResult.Accepted) validator.validate(Commands.full(HOST, ROOT, "remote"))).job();
        List<RsyncPlanner.Pass> all = new ArrayList<>();
        for (var job : List.of(plain, linked, renamed, full)) all.addAll(withMoves.plan(job));
        List<RsyncPlanner.Pass> renames = withMoves.plan(renamed);
        assertThat(renames).filteredOn(RsyncPlanner.Pass::basis).hasSize(2);
        // the passes that carry the run's state keep -H; only basis passes fuzz, and they go without it
        assertThat(all).filteredOn(p -> !p.basis()).allSatisfy(p -> assertThat(p.args()).contains("-H")
            .doesNotContain("--fuzzy"));
        assertThat(all).filteredOn(RsyncPlanner.Pass::basis).isNotEmpty().allSatisfy(p -> assertThat(p.args())
            .contains("--fuzzy").doesNotContain("-H"));
        // a whole-root run deletes partial files interrupted runs left (it would never use them: quick check)
        assertThat(runner.plan(full)).allSatisfy(p -> assertThat(p.args()).noneMatch(a -> a.startsWith("--partial")));
        assertThat(runner.plan(plain)).allSatisfy(p -> assertThat(p.args())
            .contains("--partial-dir=" + RsyncPlanner.PARTIAL_DIR));
    }
}
