package io.rtbackup.cli.e2e;

import static io.rtbackup.cli.e2e.SteppedClock.awaitContent;
import static io.rtbackup.cli.e2e.SteppedClock.awaitLog;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source host's wall clock steps back 20 s while the agent runs ({@code rtb agent} in a child JVM under
 * libfaketime; broker and worker in this JVM on the real clock): a file synced just before the step and changed
 * just after it must reach both destinations, like a file created after the step. Whether a change is already
 * replicated is decided by the agent's capture order, so no clock step can make a later change look older than
 * the last sync. Prints how long each path took after the change.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ClockStepEndToEndTest {
    static final Duration STEP = Duration.ofSeconds(20);
    static final Duration CONVERGE = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void aFileChangedJustAfterTheAgentsClockSteppedBackReachesTheReplica(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.startWorker();
            SteppedClock clock = new SteppedClock(tmp);
            Path log = tmp.resolve("agent.log");
            Process agent = fleet.startAgentProcess(log, clock.env());
            try {
                awaitLog(agent, log, "agent up", Duration.ofSeconds(120));
                Path src = Path.of(new String(fleet.source, StandardCharsets.UTF_8));
                Path[] replicas = {Path.of(new String(fleet.replica(fleet.d1), StandardCharsets.UTF_8)),
                    Path.of(new String(fleet.replica(fleet.d2), StandardCharsets.UTF_8))};
                Files.writeString(src.resolve("a.txt"), "before the step\n");
                for (Path r : replicas) {
                    awaitContent(agent, log, r.resolve("a.txt"), "before the step\n", CONVERGE, System.nanoTime());
                }
                Thread.sleep(1_000); // the results reach the worker: a.txt counts as replicated

                clock.stepBack(STEP);
                long changedNs = System.nanoTime();
                Files.writeString(src.resolve("a.txt"), "changed after the step\n");
                Files.writeString(src.resolve("b.txt"), "new after the step\n");
                for (Path r : replicas) {
                    long a = awaitContent(agent, log, r.resolve("a.txt"), "changed after the step\n", CONVERGE, changedNs);
                    long b = awaitContent(agent, log, r.resolve("b.txt"), "new after the step\n", CONVERGE, changedNs);
                    System.out.printf("agent clock stepped back %d s: on %s the changed file arrived after %d ms, the "
                        + "new file after %d ms%n", STEP.toSeconds(), r, a, b);
                }
                fleet.awaitConverged(fleet.d1, CONVERGE);
                fleet.awaitConverged(fleet.d2, CONVERGE);
            } finally {
                agent.destroy();
                if (!agent.waitFor(30, TimeUnit.SECONDS)) agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
