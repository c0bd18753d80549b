package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.ExternalCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded workload runs while one thing breaks; once it is healed, both destinations must equal the source.
 * Each scenario's seed is fixed (and printed), so a failure is replayed exactly; {@code -Dops=} makes them longer.
 */
@ExtendWith({KafkaBrokerExtension.class, LostSummary.class})
class FaultScenariosTest {
    static final Duration CONVERGE = Duration.ofSeconds(150);
    static final int OPS = Integer.getInteger("ops", 200);

    @TempDir
    Path logs;

    private static Workload start(Fleet fleet, long seed) {
        LostSummary.SCENARIOS.incrementAndGet();
        return new Workload(fleet.source, seed);
    }

    private static void converge(Fleet fleet, Workload w, String scenario) throws InterruptedException {
        LostSummary.OPERATIONS.addAndGet(w.applied());
        Convergence.await(fleet, w, scenario, CONVERGE);
    }

    @Test
    void anAgentKilledWithSigkillRescansWhatItMissedWhenItComesBack(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker();
            Path log = logs.resolve("agent.log");
            Process agent = fleet.startAgentProcess(log);
            Workload w = start(fleet, 101);
            try {
                awaitLog(log, "agent up");
                w.run(OPS / 2, 25);
                agent.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no flush, no goodbye
                LostSummary.FAULTS.incrementAndGet();
                w.run(OPS / 2, 25); // nobody is watching these
                agent = fleet.startAgentProcess(log);
                converge(fleet, w, "agent SIGKILL");
            } finally {
                stop(agent);
            }
        }
    }

    @Test
    void aWorkerKilledWithSigkillMidWorkloadIsReplacedAndNothingIsLost(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startAgent();
            Path log = logs.resolve("worker.log");
            Process first = fleet.startWorkerProcess("killed-worker", log);
            Process second = null;
            Workload w = start(fleet, 102);
            try {
                awaitLog(log, "worker killed-worker started");
                w.run(OPS / 2, 25);
                first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                LostSummary.FAULTS.incrementAndGet();
                w.run(OPS / 2, 25);
                second = fleet.startWorkerProcess("killed-worker", log);
                converge(fleet, w, "worker SIGKILL");
            } finally {
                stop(first);
                if (second != null) stop(second);
            }
        }
    }

    @Test
    void aBrokerKilledAndRestartedOnItsLogLosesNothing(@TempDir Path brokerLogDir) throws Exception {
        BrokerSettings settings = BrokerSettings.onFreePorts(brokerLogDir);
        ChildJvmKafkaBroker broker = ChildJvmKafkaBroker.start(settings);
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            Workload w = start(fleet, 103);
            w.run(OPS / 2, 25);
            broker.kill();
            LostSummary.FAULTS.incrementAndGet();
            w.run(OPS / 2, 25); // captured while the broker is gone: held by the agent's publisher
            Thread.sleep(3000);
            broker = ChildJvmKafkaBroker.start(settings); // same log dir, same ports
            converge(fleet, w, "broker killed and restarted");
        } finally {
            broker.close();
        }
    }

    @Test
    void aDestinationDaemonKilledAndRestartedCatchesUp(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            Workload w = start(fleet, 104);
            w.run(OPS / 2, 25);
            fleet.d2.kill(); // SIGKILL to the daemon and its connections, mid-transfer
            LostSummary.FAULTS.incrementAndGet();
            w.run(OPS / 2, 25);
            Thread.sleep(2000);
            fleet.d2.restart();
            converge(fleet, w, "destination daemon killed");
        }
    }

    @Test
    void aFullDestinationCatchesUpOnceItHasRoomAgain(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            String module = new String(fleet.d2.moduleDir("backup"), StandardCharsets.US_ASCII);
            ExternalCommand.Result mounted = ExternalCommand.of("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                module).timeout(Duration.ofSeconds(30)).run();
            Assumptions.assumeTrue(mounted.exitCode() == 0, "cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): "
                + mounted.describe());
            try {
                fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
                Workload w = start(fleet, 105);
                w.run(OPS / 2, 25);
                // more than the 4 MiB the destination has
                byte[] big = new byte[6 << 20];
                new Random(105).nextBytes(big);
                ByteFs.write(join(fleet.source, utf8("bigger-than-the-disk")), big);
                w.run(OPS / 2, 25);
                LostSummary.FAULTS.incrementAndGet();
                // the destination really filled up (failed attempts are retried, so they show in the agent's count)
                await().atMost(CONVERGE).until(() -> HostileInputTest.counter(fleet.registry, "rtb_agent_commands",
                    Map.of("destination", "d2", "outcome", "failed")) > 0);
                // The first failure may be a run that ended at the command timeout on the full disk (seen once on
                // rsync 3.2.7) rather than with ENOSPC; the retries that follow must report the full disk.
                await().atMost(CONVERGE).untilAsserted(() -> assertThat(HostileInputTest.failedResultErrors(broker,
                    fleet, "d2")).anySatisfy(e -> assertThat(e).contains("No space left on device")));
                Convergence.awaitOne(fleet, fleet.d1, w, "destination full", CONVERGE); // d1 is not held back
                ExternalCommand.Result grown = ExternalCommand.of("mount", "-o", "remount,size=64m", module)
                    .timeout(Duration.ofSeconds(30)).run();
                assertThat(grown.exitCode()).as("remount: %s", grown.describe()).isZero();
                converge(fleet, w, "destination full, then grown");
            } finally {
                fleet.d2.stop(); // the daemon lets go of the mount, then it goes before the temp dir is deleted
                ExternalCommand.of("umount", "-l", module).timeout(Duration.ofSeconds(30)).run();
            }
        }
    }

    @Test
    void aCaptureOverflowBecomesARescanAndNothingIsLost(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker();
            Path log = logs.resolve("agent.log");
            Process agent = fleet.startAgentProcess(log);
            Workload w = start(fleet, 106);
            try {
                awaitLog(log, "agent up");
                w.run(OPS / 2, 25);
                // A stopped agent reads nothing: the kernel's fanotify queue (16384 events) overflows for real.
                signal(agent, "STOP");
                ByteFs.mkdir(join(fleet.source, utf8("storm")));
                for (int i = 0; i < 20_000; i++) {
                    ByteFs.write(join(fleet.source, utf8("storm"), utf8("s" + i)), utf8("storm " + i));
                }
                w.run(OPS / 2, 0);
                signal(agent, "CONT");
                LostSummary.FAULTS.incrementAndGet();
                awaitLog(log, "overflowed");
                converge(fleet, w, "capture overflow");
            } finally {
                signal(agent, "CONT");
                stop(agent);
            }
        }
    }

    @Test
    void aSlowDestinationConvergesAndDoesNotHoldBackTheOther(KafkaBroker broker) throws Exception {
        // every connection to d2 waits 2 s before its transfer starts
        try (Fleet fleet = new Fleet(broker, b -> b, b -> b.moduleParameter("pre-xfer exec", "/bin/sleep 2"))) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            Workload w = start(fleet, 107);
            w.run(OPS, 25);
            LostSummary.FAULTS.incrementAndGet();
            fleet.awaitConverged(fleet.d1, CONVERGE);
            converge(fleet, w, "slow destination");
            double d1 = fleet.reports.stream().filter(r -> r.destination().equals("d1"))
                .mapToLong(r -> r.latencyMs()).average().orElse(0);
            double d2 = fleet.reports.stream().filter(r -> r.destination().equals("d2"))
                .mapToLong(r -> r.latencyMs()).average().orElse(0);
            System.out.printf("slow destination: mean batch latency d1 %.0f ms, d2 %.0f ms%n", d1, d2);
            // the 2 s wait really happened on every d2 run
            assertThat(fleet.reports.stream().filter(r -> r.destination().equals("d2")))
                .isNotEmpty().allSatisfy(r -> assertThat(r.rsyncDurationMs()).isGreaterThanOrEqualTo(2000));
        }
    }

    static void awaitLog(Path log, String needle) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
            Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(needle));
    }

    private static void signal(Process p, String signal) throws IOException {
        if (p.isAlive()) {
            ExternalCommand.of("kill", "-" + signal, String.valueOf(p.pid())).timeout(Duration.ofSeconds(10)).run();
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    static String show(byte[] b) {
        return BytePaths.show(b);
    }
}
