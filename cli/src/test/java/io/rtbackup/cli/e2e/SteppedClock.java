package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A wall clock the test can step, for a child process: libfaketime (Debian's {@code faketime} package) preloaded,
 * reading its offset from a file the test rewrites. The monotonic clock is left alone, as an NTP step, a VM resume
 * or a clock fixed by hand leave it; Java's timers run on it.
 */
final class SteppedClock {
    static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    private final Path offsetFile;

    SteppedClock(Path dir) throws IOException {
        assertThat(LIBFAKETIME).as("libfaketime: install Debian's faketime package (./run-tests does)").exists();
        offsetFile = dir.resolve("faketime.rc");
        Files.writeString(offsetFile, "+0\n");
    }

    /** The environment that puts a child process on this clock. */
    Map<String, String> env() {
        // NO_FAKE_STAT: a real clock step leaves the files' timestamps alone; rsync must copy them unchanged.
        return Map.of("LD_PRELOAD", LIBFAKETIME.toString(), "FAKETIME_TIMESTAMP_FILE", offsetFile.toString(),
            "FAKETIME_CACHE_DURATION", "1", "FAKETIME_DONT_FAKE_MONOTONIC", "1", "NO_FAKE_STAT", "1");
    }

    /**
     * The environment of a child whose wall clock steps back by {@code back} once it has run for {@code after}. Each
     * clock read is cheaper than with the offset file (which a busy in-process broker can feel), but the moment is
     * fixed at start.
     */
    static Map<String, String> envSteppingBack(Duration back, Duration after) {
        assertThat(LIBFAKETIME).as("libfaketime: install Debian's faketime package (./run-tests does)").exists();
        return Map.of("LD_PRELOAD", LIBFAKETIME.toString(), "FAKETIME", "-" + back.toSeconds() + "s",
            "FAKETIME_START_AFTER_SECONDS", String.valueOf(after.toSeconds()), "FAKETIME_DONT_FAKE_MONOTONIC", "1",
            "NO_FAKE_STAT", "1");
    }

    /** Steps the child's wall clock back by {@code back}; returns once the child reads the new offset. */
    void stepBack(Duration back) throws IOException, InterruptedException {
        Files.writeString(offsetFile, "-" + back.toSeconds() + "s\n");
        Thread.sleep(3_000); // libfaketime re-reads the file at most FAKETIME_CACHE_DURATION (1 s) later
    }

    /** Waits until {@code file} holds {@code content}; returns ms since {@code sinceNs}; fails naming the log. */
    static long awaitContent(Process child, Path log, Path file, String content, Duration limit, long sinceNs)
        throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.ISO_8859_1).equals(content)) {
                return (System.nanoTime() - sinceNs) / 1_000_000;
            }
            if (!child.isAlive()) throw new AssertionError("child exited " + child.exitValue() + ":\n" + tail(log));
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(file + " did not reach the replica within " + limit + " (replica holds "
                    + (Files.exists(file) ? "'" + Files.readString(file, StandardCharsets.ISO_8859_1).strip() + "'"
                    : "nothing") + "):\n" + tail(log));
            }
            Thread.sleep(100);
        }
    }

    static void awaitLog(Process child, Path log, String line, Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!Files.exists(log) || !Files.readString(log, StandardCharsets.ISO_8859_1).contains(line)) {
            if (!child.isAlive()) throw new AssertionError("child exited " + child.exitValue() + ":\n" + tail(log));
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no '" + line + "' within " + limit + ":\n" + tail(log));
            }
            Thread.sleep(200);
        }
    }

    static String tail(Path log) throws IOException {
        if (!Files.exists(log)) return "";
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
