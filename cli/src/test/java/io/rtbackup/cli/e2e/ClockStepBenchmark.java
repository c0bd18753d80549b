package io.rtbackup.cli.e2e;

import static io.rtbackup.cli.e2e.SteppedClock.awaitContent;
import static io.rtbackup.cli.e2e.SteppedClock.awaitLog;

import io.rtbackup.cli.Rtb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long {@code rtb up} stalls when its whole process's wall clock steps back (broker, agent and worker share
 * it): a file changed and a file created after the step, each timed until it is on the destination. Prints the
 * figures; asserts only that both arrive. The step is {@code -Drtb.clock-step-s} seconds (default 120),
 * {@code -Drtb.clock-step-after-s} (default 120) after the process started. Run with
 * {@code mvn -B -pl cli -am test -Dtest=ClockStepBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * -Dgroups=benchmark -DexcludedGroups=none}.
 */
@Tag("benchmark")
class ClockStepBenchmark {
    static final long STEP_S = Long.getLong("rtb.clock-step-s", 120);
    /** When the step happens, in seconds after the process started: after start-up and the first sync. */
    static final long STEP_AFTER_S = Long.getLong("rtb.clock-step-after-s", 120);

    @TempDir
    Path tmp;

    private static boolean holds(Path file, String content) throws java.io.IOException {
        return Files.exists(file) && Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1).equals(content);
    }

    @Test
    void stallOfRtbUpAfterABackwardClockStep() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = Files.createDirectories(tmp.resolve("dst"));
        Path log = tmp.resolve("up.log");
        Path replica = dst.resolve("steppy").resolve("src");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1", "-Xmx512m", "-cp", System.getProperty("java.class.path"), Rtb.class.getName(),
            "up", "--source", src.toString(), "--dest", dst.toString(), "--state-dir", tmp.resolve("state").toString(),
            "--host-id", "steppy", "--no-keep-versions"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(SteppedClock.envSteppingBack(Duration.ofSeconds(STEP_S), Duration.ofSeconds(STEP_AFTER_S)));
        long startedNs = System.nanoTime();
        Process up = pb.start();
        try {
            awaitLog(up, log, "replicating changes live", Duration.ofMinutes(7));
            // a.txt is synced just before the step (within the step's size), so that after it the clock reads
            // earlier than that sync started
            long syncAtMs = (STEP_AFTER_S - 15) * 1000 - (System.nanoTime() - startedNs) / 1_000_000;
            if (syncAtMs > 0) Thread.sleep(syncAtMs);
            Files.writeString(src.resolve("a.txt"), "before the step\n");
            awaitContent(up, log, replica.resolve("a.txt"), "before the step\n", Duration.ofSeconds(120), System.nanoTime());
            Thread.sleep(1_000);

            long stepInMs = STEP_AFTER_S * 1000 - (System.nanoTime() - startedNs) / 1_000_000;
            if (stepInMs < 0) {
                throw new AssertionError("start-up and the first sync took longer than " + STEP_AFTER_S + " s: raise "
                    + "-Drtb.clock-step-after-s");
            }
            Thread.sleep(stepInMs + 2_000);
            long changedNs = System.nanoTime();
            Files.writeString(src.resolve("a.txt"), "changed after the step\n");
            Files.writeString(src.resolve("b.txt"), "new after the step\n");
            Duration limit = Duration.ofSeconds(Math.max(120, STEP_S * 8));
            // Both watched at once, so a path that never arrives does not hide how long the other took.
            Path a = replica.resolve("a.txt");
            Path b = replica.resolve("b.txt");
            long aMs = -1;
            long bMs = -1;
            while ((aMs < 0 || bMs < 0) && System.nanoTime() - changedNs < limit.toNanos() && up.isAlive()) {
                long now = (System.nanoTime() - changedNs) / 1_000_000;
                if (aMs < 0 && holds(a, "changed after the step\n")) aMs = now;
                if (bMs < 0 && holds(b, "new after the step\n")) bMs = now;
                Thread.sleep(100);
            }
            System.out.printf("rtb up, wall clock stepped back %d s: changed file on the destination after %s, new "
                + "file after %s%n", STEP_S, aMs < 0 ? "never (within " + limit + ")" : aMs + " ms",
                bMs < 0 ? "never (within " + limit + ")" : bMs + " ms");
            if (aMs < 0 || bMs < 0) throw new AssertionError("a path did not reach the destination:\n" + SteppedClock.tail(log));
        } finally {
            up.destroy();
            if (!up.waitFor(60, TimeUnit.SECONDS)) up.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            System.out.println("rtb up output (last lines):\n" + SteppedClock.tail(log));
        }
    }
}
