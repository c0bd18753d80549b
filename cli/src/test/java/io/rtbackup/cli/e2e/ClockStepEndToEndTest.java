package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.cli.Rtb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rtb up} in a child JVM whose wall clock steps back while it runs (libfaketime from Debian's
 * {@code faketime} package, preloaded; the monotonic clock is left alone, as an NTP step or a VM resume leaves
 * it): a file synced just before the step and changed just after it must still reach the destination, and so must
 * a new file. The step is taken by rewriting libfaketime's offset file, so it happens at a chosen moment.
 *
 * <p>The step is {@code -Drtb.clock-step-s} seconds (default 20, what CI runs); the test prints how long each path
 * took to reach the replica after the step. {@code -Drtb.clock-step-s=120} measures the stall of a 2-minute step.
 */
class ClockStepEndToEndTest {
    static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    static final long STEP_S = Long.getLong("rtb.clock-step-s", 20);

    @TempDir
    Path tmp;

    @Test
    void aFileChangedAfterTheClockSteppedBackStillReachesTheReplica() throws Exception {
        assertThat(LIBFAKETIME).as("libfaketime: install Debian's faketime package (./run-tests does)").exists();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = Files.createDirectories(tmp.resolve("dst"));
        Path offset = tmp.resolve("faketime.rc");
        Files.writeString(offset, "+0\n");
        Path log = tmp.resolve("up.log");
        Path a = src.resolve("a.txt");
        Path b = src.resolve("b.txt");
        Path replica = dst.resolve("steppy").resolve("src");

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1", "-Xmx512m", "-cp", System.getProperty("java.class.path"), Rtb.class.getName(),
            "up", "--source", src.toString(), "--dest", dst.toString(), "--state-dir", tmp.resolve("state").toString(),
            "--host-id", "steppy", "--no-keep-versions"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("LD_PRELOAD", LIBFAKETIME.toString());
        pb.environment().put("FAKETIME_TIMESTAMP_FILE", offset.toString());
        pb.environment().put("FAKETIME_CACHE_DURATION", "1");
        // Java's timers (and ours) run on CLOCK_MONOTONIC, which a wall-clock step leaves alone.
        pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        Process up = pb.start();
        try {
            awaitLog(up, log, "replicating changes live", Duration.ofSeconds(420));

            Files.writeString(a, "before the step\n");
            awaitContent(up, log, replica.resolve("a.txt"), "before the step\n", Duration.ofSeconds(60));
            Thread.sleep(1_000); // the sync's result reaches the worker: a.txt counts as replicated

            Files.writeString(offset, "-" + STEP_S + "s\n");
            Thread.sleep(3_000); // libfaketime re-reads the offset at most 1 s later
            long steppedNs = System.nanoTime();
            Files.writeString(a, "changed after the clock stepped back " + STEP_S + " s\n");
            Files.writeString(b, "new after the step\n");

            Duration limit = Duration.ofSeconds(Math.max(60, STEP_S * 8));
            long aMs = awaitContent(up, log, replica.resolve("a.txt"),
                "changed after the clock stepped back " + STEP_S + " s\n", limit, steppedNs);
            long bMs = awaitContent(up, log, replica.resolve("b.txt"), "new after the step\n", limit, steppedNs);
            System.out.printf("clock step -%d s: changed file reached the replica %d ms after the change, new file "
                + "%d ms%n", STEP_S, aMs, bMs);
        } finally {
            up.destroy();
            if (!up.waitFor(60, TimeUnit.SECONDS)) up.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            System.out.println("rtb up log tail:\n" + tail(log));
        }
    }

    private static void awaitLog(Process up, Path log, String line, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!Files.readString(log, StandardCharsets.ISO_8859_1).contains(line)) {
            if (!up.isAlive()) throw new AssertionError("rtb up exited " + up.exitValue() + ":\n" + tail(log));
            if (System.nanoTime() - deadline > 0) throw new AssertionError("no '" + line + "' in " + limit + ":\n" + tail(log));
            Thread.sleep(200);
        }
    }

    private static long awaitContent(Process up, Path log, Path file, String content, Duration limit)
        throws Exception {
        return awaitContent(up, log, file, content, limit, System.nanoTime());
    }

    /** Waits until {@code file} holds {@code content}; returns the ms since {@code sinceNs}. */
    private static long awaitContent(Process up, Path log, Path file, String content, Duration limit, long sinceNs)
        throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.ISO_8859_1).equals(content)) {
                return (System.nanoTime() - sinceNs) / 1_000_000;
            }
            if (!up.isAlive()) throw new AssertionError("rtb up exited " + up.exitValue() + ":\n" + tail(log));
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(file.getFileName() + " did not reach the replica within " + limit
                    + " (replica holds " + (Files.exists(file) ? "'" + Files.readString(file).strip() + "'" : "nothing")
                    + "):\n" + tail(log));
            }
            Thread.sleep(100);
        }
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) return "";
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
