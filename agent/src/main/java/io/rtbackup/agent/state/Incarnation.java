package io.rtbackup.agent.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's incarnation: a number persisted in the state directory and larger at every start, so that
 * (incarnation, sequence) orders every change this host's agent ever captured without looking at a clock.
 *
 * <p>A start reads the stored number and takes {@code max(stored + 1, wall-clock ms)}, and makes it durable (temp
 * file, fsync, rename, fsync of the directory; mode 0600) before the agent publishes anything: a crash after that
 * never reuses the number, so a result of this run can never cover a later run's events. The wall clock is only a
 * floor for a missing or unreadable file (first start, state lost): the new number then exceeds every earlier one
 * unless the clock is also behind where it was at an earlier start whose results a worker still remembers — the
 * one case no local state can rule out. Falling back to 0 (unknown) would not help: the start after it would need
 * a number above the lost one just the same. While the file is intact, clock steps change nothing.
 */
public final class Incarnation {
    private static final Logger log = LoggerFactory.getLogger(Incarnation.class);
    static final String FILE = "agent.incarnation";

    private Incarnation() {}

    /**
     * This start's incarnation, already stored in {@code stateDir} (created if missing).
     *
     * @throws UncheckedIOException when it cannot be stored: the agent must not run with a number it may reuse
     */
    public static long next(Path stateDir, Clock clock) {
        Path file = stateDir.resolve(FILE);
        try {
            Files.createDirectories(stateDir);
            long stored = read(file);
            long next = Math.max(stored == Long.MIN_VALUE ? 1 : stored + 1, clock.millis());
            write(file, next);
            log.info("agent incarnation {} (stored in {})", next, file);
            return next;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the agent incarnation in " + file
                + " (state.dir must be a writable directory)", e);
        }
    }

    /** The stored number, or MIN_VALUE when there is none or it is unreadable. */
    private static long read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            log.info("no stored agent incarnation at {}: first start here, or the state was lost", file);
            return Long.MIN_VALUE;
        }
        try {
            long v = Long.parseLong(text);
            if (v > 0) return v;
        } catch (NumberFormatException e) {
            // handled below, like a non-positive number
        }
        log.warn("stored agent incarnation at {} is unreadable ('{}'); starting above the wall clock instead", file,
            text.length() > 40 ? text.substring(0, 40) + "..." : text);
        return Long.MIN_VALUE;
    }

    private static void write(Path file, long value) throws IOException {
        DurableFile.write(file, (value + "\n").getBytes(StandardCharsets.US_ASCII));
    }
}
