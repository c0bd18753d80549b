package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TreeDiff;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination whose rsync daemon stops answering in the middle of a run (its children SIGSTOPped, as a hung or
 * frozen backup server would) ends the run after the destination's {@code timeout-s}, not after the command
 * timeout: rsync 3.2.7's own {@code --timeout} never fires there (its keep-alive writes count as I/O), so before the
 * agent watched the run's counters it hung until the command timeout (here 120 s). The run fails, so it is
 * retried; once the daemon answers again the retry brings the replica in step: nothing is lost.
 */
class StalledRsyncTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";
    private static final int IO_TIMEOUT_S = 2;
    private static final int COMMAND_TIMEOUT_S = 120;

    @TempDir
    Path tmp;
    private RsyncDaemon daemon;
    private Path module;
    private Path src;
    private CommandValidator validator;
    private RsyncRunner runner;

    @BeforeEach
    void setUp() throws Exception {
        module = Files.createDirectories(tmp.resolve("module"));
        daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon")).toString()))
            .module("backup", BytePaths.utf8(module.toString())).start();
        src = Files.createDirectories(tmp.resolve("src"));
        Properties p = new Properties();
        p.setProperty("destination.remote.url", daemon.url("backup"));
        p.setProperty("destination.remote.timeout-s", String.valueOf(IO_TIMEOUT_S));
        p.setProperty("destination.remote.command-timeout-s", String.valueOf(COMMAND_TIMEOUT_S));
        ExecConfig config = ExecConfig.from(p, Map.of());
        validator = new CommandValidator(HOST, Map.of(ROOT, BytePaths.utf8(src.toString())), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    @AfterEach
    void tearDown() throws Exception {
        signalDaemonChildren("CONT");
        runner.close();
        daemon.close();
    }

    @Test
    void aDaemonThatStopsAnsweringEndsTheRunAfterTheIoTimeoutAndTheRetryLosesNothing() throws Exception {
        Random random = new Random(7);
        byte[][] paths = new byte[4][];
        for (int i = 0; i < paths.length; i++) paths[i] = b("f" + i);
        ReplicationJob job = job(paths);
        // The daemon's child for this connection is stopped as soon as it exists: the client has sent its file list
        // and waits for the far end, writing only keep-alives (while rsync sends file data into a full socket, its
        // own timeout does fire: the writes block). A run can still end before the stop lands (it polls for the
        // child and forks `kill`; CI saw a 0.8 s OK run under load): then it is tried again with new content. A run
        // the stop caught can only fail or hang, never end OK, so trying again hides no regression.
        ReplicationReport stalled = null;
        Duration took = null;
        for (int attempt = 0; attempt < 5 && stalled == null; attempt++) {
            for (byte[] path : paths) {
                byte[] data = new byte[1024 * 1024];
                random.nextBytes(data);
                Files.write(src.resolve(new String(path, StandardCharsets.UTF_8)), data);
            }
            AtomicBoolean ended = new AtomicBoolean();
            Thread stopper = new Thread(() -> {
                try {
                    while (!ended.get() && signalDaemonChildren("STOP") == 0) Thread.sleep(5);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            stopper.start();
            long start = System.nanoTime();
            ReplicationReport report = runner.replicate(job);
            Duration runTook = Duration.ofNanos(System.nanoTime() - start);
            ended.set(true);
            stopper.join();
            if (report.outcome() == SyncOutcome.OK) {
                signalDaemonChildren("CONT"); // a stop that landed after the run's end
                continue;
            }
            stalled = report;
            took = runTook;
        }
        assertThat(stalled).as("a run the daemon's stop caught, in 5 tries").isNotNull();

        // stalled 2 s after the stop, killed within the 2 s grace: far from the 120 s command timeout
        assertThat(took).as("run against a stopped daemon").isLessThan(Duration.ofSeconds(20));
        assertThat(stalled.outcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(stalled.error()).hasValueSatisfying(e -> assertThat(e).contains("moved no data for "
            + IO_TIMEOUT_S + " s").contains("destination.remote.timeout-s"));

        signalDaemonChildren("CONT"); // the server is back; the killed run's daemon children see the end and exit
        ReplicationReport retry = runner.replicate(job);
        assertThat(retry.outcome()).as("retry: %s", retry.error()).isEqualTo(SyncOutcome.OK);
        TreeDiff.Result diff = TreeDiff.defaults().compare(BytePaths.utf8(src.toString()),
            BytePaths.utf8(module.resolve(HOST).resolve(ROOT).toString()));
        assertThat(diff.isEqual()).as("replica after the retry: %s", diff.describe()).isTrue();
    }

    private ReplicationJob job(byte[]... paths) {
        ValidationResult v = validator.validate(Commands.paths(HOST, ROOT, "remote", paths));
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        return ((ValidationResult.Accepted) v).job();
    }

    /**
     * kill -SIGNAL to every child of the daemon (the per-connection processes), never the listener itself; returns
     * how many there were.
     */
    private int signalDaemonChildren(String signal) throws Exception {
        List<Long> children = ProcessHandle.of(daemon.pid()).map(h -> h.descendants().map(ProcessHandle::pid).toList())
            .orElse(List.of());
        for (long pid : children) {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
        }
        return children.size();
    }
}
