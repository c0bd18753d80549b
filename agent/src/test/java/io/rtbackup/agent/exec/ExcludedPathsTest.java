package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.rsync.RsyncExcludes;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
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

/**
 * A root's excludes in every kind of run, with real rsync to a local directory and to a daemon: full syncs, listed
 * files and directories, and the deletion pass. Nothing excluded is sent; what the replica holds that is excluded
 * stays unless the destination says {@code exclude-delete=true} (full syncs only).
 */
class ExcludedPathsTest {
    private static final String HOST = "h";
    private static final String ROOT = "r";
    private static final List<String> GLOBS = List.of("*.key", "/cache", "tmp dir/");
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());

    @TempDir
    static Path shared;
    private static RsyncDaemon daemon;
    private static Path moduleDir;

    @TempDir
    Path tmp;
    private byte[] src;
    private String prefix;
    private ExecConfig config;
    private CommandValidator validator;
    private RsyncRunner runner;

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
        p.setProperty("destination.purge.url", tmp.resolve("purge").toString());
        p.setProperty("destination.purge.exclude-delete", "true");
        p.setProperty("destination.remote.url", daemon.url("backup") + "/" + prefix);
        p.setProperty("destination.remote.timeout-s", "20");
        config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", PASSWORD));
        validator = new CommandValidator(HOST, Map.of(ROOT, src), Map.of(ROOT, GLOBS), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
        for (String f : List.of("keep.txt", "secret.key", "cache/blob", "sub/cache/kept", "sub/id.key", "tmp dir/x",
                "dir/a.txt", "dir/deep/b.key")) {
            write(f, f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void fullSyncsSendNothingExcludedAndLeaveTheReplicasExcludedEntries(String dest) throws Exception {
        ByteFs.mkdirs(replica(dest));
        ByteFs.write(BytePaths.join(replica(dest), b("old.key")), b("there before the exclude"));
        run(Commands.full(HOST, ROOT, dest));
        assertThat(files(replica(dest))).containsExactlyInAnyOrder("keep.txt", "sub/cache/kept", "dir/a.txt",
            "old.key");
    }

    @Test
    void excludeDeleteRemovesThemInFullSyncs() throws Exception {
        String dest = "purge";
        ByteFs.mkdirs(BytePaths.join(replica(dest), b("cache")));
        ByteFs.write(BytePaths.join(replica(dest), b("old.key")), b("there before the exclude"));
        ByteFs.write(BytePaths.join(replica(dest), b("cache/blob")), b("there before the exclude"));
        run(Commands.full(HOST, ROOT, dest));
        assertThat(files(replica(dest))).containsExactlyInAnyOrder("keep.txt", "sub/cache/kept", "dir/a.txt");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void listedRunsSendNothingExcluded(String dest) throws Exception {
        run(Commands.paths(HOST, ROOT, dest, b("secret.key"), b("dir"), b("cache/blob"), b("tmp dir/x"),
            b("keep.txt")));
        assertThat(files(replica(dest))).containsExactlyInAnyOrder("keep.txt", "dir/a.txt");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void theDeletionPassLeavesExcludedEntries(String dest) throws Exception {
        run(Commands.full(HOST, ROOT, dest));
        // On the replica from before: an excluded file in a directory that goes, and one that goes itself.
        ByteFs.write(BytePaths.join(replica(dest), b("dir/old.key")), b("there before the exclude"));
        ByteFs.write(BytePaths.join(replica(dest), b("gone.key")), b("there before the exclude"));
        ByteFs.deleteTree(BytePaths.join(src, b("dir")));

        run(Commands.paths(HOST, ROOT, dest, b("dir"), b("gone.key")));

        assertThat(files(replica(dest))).containsExactlyInAnyOrder("keep.txt", "sub/cache/kept", "dir/old.key",
            "gone.key");
    }

    @Test
    void theRootsRulesComeBeforeTheDeletionPassSelection() throws Exception {
        String dest = "local";
        ByteFs.deleteTree(BytePaths.join(src, b("dir")));
        ReplicationJob job = ((ValidationResult.Accepted) validator.validate(
            Commands.paths(HOST, ROOT, dest, b("dir"), b("secret.key")))).job();
        assertThat(job.excludes().globs()).isEqualTo(GLOBS);
        List<RsyncPlanner.Pass> passes = runner.plan(job);
        assertThat(passes).hasSize(1); // secret.key is dropped: its pass of present paths is gone
        List<String> args = passes.get(0).args();
        List<String> rules = RsyncExcludes.of(GLOBS).filterArgs();
        assertThat(args).containsSubsequence(rules.get(rules.size() - 1), "--include-from=-", "--exclude=*")
            .doesNotContain(RsyncExcludes.DELETE_EXCLUDED);
        assertThat(args.indexOf(rules.get(0))).isLessThan(args.indexOf("--include-from=-"));
    }

    @Test
    void aRenamedDirectoryGetsABasisPassOnlyWhereTheRootsRulesMeanTheSameInIt() throws Exception {
        write("photos/a.jpg", "picture");
        write("photos/x.key", "key");
        run(Commands.full(HOST, ROOT, "remote"));
        Files.move(tmp.resolve("src/photos"), tmp.resolve("src/albums"));
        RecentMoves moves = RecentMoves.standard();
        moves.observe(new CapturedEvent(ROOT, b("albums"), FileOp.MOVE_TO, true, b("photos"), CaptureSource.FANOTIFY,
            0, -1));
        RsyncRunner withMoves = new RsyncRunner(config.rsyncPath(), moves);
        SyncCommand rename = Commands.paths(HOST, ROOT, "remote", b("albums"), b("photos"));

        // "/cache" is anchored at the root; a pass rooted at albums/ would read it as albums/cache: no basis pass.
        ReplicationJob anchored = ((ValidationResult.Accepted) validator.validate(rename)).job();
        assertThat(withMoves.plan(anchored)).noneMatch(RsyncPlanner.Pass::basis);

        CommandValidator namesOnly = new CommandValidator(HOST, Map.of(ROOT, src), Map.of(ROOT, List.of("*.key")),
            config.destinations());
        ReplicationJob job = ((ValidationResult.Accepted) namesOnly.validate(rename)).job();
        assertThat(withMoves.plan(job)).filteredOn(RsyncPlanner.Pass::basis).singleElement()
            .satisfies(pass -> assertThat(pass.args()).contains("--filter=- *.key"));
        ReplicationReport r = withMoves.replicate(job);
        assertThat(r.outcome()).as("error %s", r.error()).isEqualTo(SyncOutcome.OK);
        assertThat(files(replica("remote"))).contains("albums/a.jpg").doesNotContain("albums/x.key", "photos/a.jpg");
    }

    private void run(SyncCommand cmd) {
        ValidationResult v = validator.validate(cmd);
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) v).job());
        assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
    }

    private byte[] replica(String dest) {
        if (dest.equals("remote")) {
            return BytePaths.utf8(moduleDir.resolve(prefix).resolve(HOST).resolve(ROOT).toString());
        }
        return BytePaths.utf8(tmp.resolve(dest.equals("local") ? "dst" : dest).resolve(HOST).resolve(ROOT).toString());
    }

    private void write(String rel, String content) throws IOException {
        byte[] at = BytePaths.join(src, b(rel));
        ByteFs.mkdirs(BytePaths.parent(at));
        ByteFs.write(at, b(content));
    }

    /** Regular files below {@code dir}, relative. */
    private static List<String> files(byte[] dir) throws IOException {
        List<String> out = new ArrayList<>();
        ByteFs.walk(dir, (rel, st) -> {
            if (st.isRegular()) out.add(BytePaths.show(rel));
            return true;
        });
        return out;
    }
}
