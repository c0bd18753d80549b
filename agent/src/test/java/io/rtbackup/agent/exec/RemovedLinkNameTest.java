package io.rtbackup.agent.exec;

import static io.rtbackup.agent.capture.CaptureScenario.at;
import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.capture.CaptureScenario;
import io.rtbackup.agent.capture.fanotify.FanotifySource;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 ("nothing lost"), on real parts: fanotify capture, the validator, rsync into a real daemon. A file with
 * two names in different directories is in the replica; it is written through one name, and that name is removed.
 * The command a worker sends for what capture reported must bring the name the file keeps up to date: the removed
 * name's own command finds it missing and only deletes it in the replica (ClusterFailoverTest lost
 * 'f142/.hidden156' this way on one destination).
 */
class RemovedLinkNameTest {
    private static final String HOST = "host-a";
    private static final String ROOT = CaptureScenario.ROOT_ID;

    @TempDir
    Path tmp;

    @Test
    void aFileWrittenThroughANameThatIsThenRemovedArrivesUnderTheNameItKeeps() throws Exception {
        String password = "pw-" + Long.toHexString(System.nanoTime());
        Path module = Files.createDirectories(tmp.resolve("module"));
        try (RsyncDaemon daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon"))
                .toString())).auth("rtb", password).module("backup", BytePaths.utf8(module.toString())).start()) {
            byte[] src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
            Properties p = new Properties();
            p.setProperty("destination.remote.url", daemon.url("backup"));
            p.setProperty("destination.remote.timeout-s", "20");
            ExecConfig config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", password));
            CommandValidator validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
            RsyncRunner runner = new RsyncRunner(config.rsyncPath());
            byte[] kept = BytePaths.join(src, b("x/kept"));
            byte[] other = BytePaths.join(src, b("y/other"));
            ByteFs.mkdirs(BytePaths.join(src, b("x")));
            ByteFs.mkdirs(BytePaths.join(src, b("y")));
            ByteFs.write(kept, b("old content of a file with two names"));
            ByteFs.link(kept, other);
            run(validator, runner, Commands.full(HOST, ROOT, "remote"));
            byte[] replica = BytePaths.utf8(module.resolve(HOST).resolve(ROOT).toString());

            Set<ByteBuffer> reported = new LinkedHashSet<>();
            try (CaptureScenario capture = new CaptureScenario(src, FanotifySource::new, Duration.ofSeconds(10))) {
                int m = capture.mark();
                ByteFs.writeAt(other, 0, b("NEW"));
                ByteFs.delete(other);
                // Capture reports in order: once this later change is in, everything before it is too.
                ByteFs.write(BytePaths.join(src, b("sentinel")), b("s"));
                capture.await(m, "the sentinel", at(b("sentinel"), FileOp.CLOSE_WRITE));
                for (CapturedEvent e : capture.eventsSince(m)) reported.add(ByteBuffer.wrap(e.path()));
            }
            // What a worker coalesces those events into: one command listing every reported path.
            byte[][] paths = reported.stream().map(ByteBuffer::array).toArray(byte[][]::new);
            ReplicationReport r = run(validator, runner, Commands.paths(HOST, ROOT, "remote", paths));

            assertThat(r.outcome()).isEqualTo(SyncOutcome.OK);
            assertThat(ByteFs.readAll(BytePaths.join(replica, b("x/kept")))).as("replica of x/kept")
                .isEqualTo(ByteFs.readAll(kept));
            Trees.assertSameTree(src, replica);
        }
    }

    private static ReplicationReport run(CommandValidator validator, RsyncRunner runner,
            io.rtbackup.schema.SyncCommand cmd) {
        ValidationResult v = validator.validate(cmd);
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) v).job());
        assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
        return r;
    }
}
