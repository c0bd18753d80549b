package io.rtbackup.agent.rsync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Tells a stalled rsync run from a working one, by the I/O and CPU counters of its local rsync processes, so that
 * the launcher can end it after the run's {@code --timeout} instead of the command timeout.
 *
 * <p>Why rsync's own {@code --timeout} is not enough (rsync 3.2.7, checked with {@code strace}): rsync counts its
 * own keep-alive writes as I/O. A sender whose far end stopped (a daemon's child SIGSTOPped: a push with
 * {@code --timeout=5} still ran after 11 minutes) writes a 4-byte keep-alive into the socket buffer every half
 * timeout, and each successful write restarts its timeout; the receiving side never times out by itself. The same
 * holds for rsync's deadlocks: a listed run with {@code -H --fuzzy} whose files were hard-linked while it ran
 * (caught 1 in 155 runs of a stress loop against a local daemon) left sender, receiver and generator in
 * {@code pselect}, passing keep-alives ({@code MSG_DATA} of length 0) around every 5 s for as long as they were let
 * (no run carries both options any more, see the agent's {@code RsyncPlanner}; the watch stays for the others).
 * Either way only the command timeout ended the run: 40 s in a test fleet, 30 min by default.
 *
 * <p>The rule: a run moves when its rsync processes (by {@code /proc/<pid>/comm}; ssh and wrappers that exec rsync
 * do not count) read or wrote at least {@value #MOVED_BYTES} bytes, or used at least {@value #MOVED_TICKS} clock
 * ticks of CPU (building a file list stats files without reading them), since the last time it moved. Keep-alives
 * are a few bytes per half timeout and next to no CPU. A run that has not moved for the limit is stalled. The limit
 * is the run's own {@code --timeout} (the destination's {@code timeout-s}), which rsync documents as "no data
 * transferred for this long": so a destination that works on one file for longer than that without sending
 * anything back (a huge file rebuilt from its old copy on a slow disk) is cut off too; raise {@code timeout-s} for
 * such a destination. Without {@code /proc} (or when it cannot be read) nothing is ever stalled and the command
 * timeout alone applies. Not thread-safe: one watch per run, used by the thread that waits for it.
 */
final class RsyncStallWatch {
    /** More than the keep-alives of a whole limit's worth of time (4 bytes each way per half timeout). */
    static final long MOVED_BYTES = 1024;
    /** 100 ms of CPU at the usual 100 ticks per second; a keep-alive costs microseconds. */
    static final long MOVED_TICKS = 10;
    private static final String TIMEOUT_OPTION = "--timeout=";
    private static final Path PROC = Path.of("/proc");

    private final Duration limit;
    private Sample mark;
    private long movedAtNanos;

    private RsyncStallWatch(Duration limit, long nowNanos) {
        this.limit = limit;
        this.movedAtNanos = nowNanos;
    }

    /** A watch for a run with {@code args}, started at {@code nowNanos}: none when they carry no {@code --timeout}. */
    static Optional<RsyncStallWatch> of(List<String> args, long nowNanos) {
        return limitOf(args).map(l -> new RsyncStallWatch(l, nowNanos));
    }

    /** The {@code --timeout=N} of an argument list (the last one, as rsync reads it), if any and positive. */
    static Optional<Duration> limitOf(List<String> args) {
        Optional<Duration> limit = Optional.empty();
        for (String a : args) {
            if (!a.startsWith(TIMEOUT_OPTION)) continue;
            try {
                long s = Long.parseLong(a.substring(TIMEOUT_OPTION.length()));
                limit = s > 0 ? Optional.of(Duration.ofSeconds(s)) : Optional.empty();
            } catch (NumberFormatException e) {
                limit = Optional.empty(); // rsync refuses it and exits at once
            }
        }
        return limit;
    }

    /** How long a run may go without moving. */
    Duration limit() {
        return limit;
    }

    /** Samples {@code root}'s tree now; whether it has not moved for the limit. */
    boolean stalled(ProcessHandle root, long nowNanos) {
        Optional<Sample> now = sample(root);
        if (now.isEmpty()) return false;
        Sample s = now.get();
        if (mark == null || s.moved(mark)) {
            mark = s;
            movedAtNanos = nowNanos;
            return false;
        }
        return nowNanos - movedAtNanos >= limit.toNanos();
    }

    /** Summed counters of the rsync processes of a tree. */
    record Sample(long bytes, long ticks) {
        /** At least the thresholds more than {@code before}; a process that ended (counters went down) counts too. */
        boolean moved(Sample before) {
            return bytes - before.bytes >= MOVED_BYTES || ticks - before.ticks >= MOVED_TICKS
                || bytes < before.bytes || ticks < before.ticks;
        }
    }

    /** The counters of {@code root} and its descendants named rsync; empty when none could be read. */
    static Optional<Sample> sample(ProcessHandle root) {
        long bytes = 0;
        long ticks = 0;
        boolean any = false;
        for (ProcessHandle h : (Iterable<ProcessHandle>) Stream.concat(Stream.of(root), root.descendants())::iterator) {
            Path dir = PROC.resolve(Long.toString(h.pid()));
            try {
                if (!Files.readString(dir.resolve("comm"), StandardCharsets.ISO_8859_1).strip().equals("rsync")) continue;
                bytes += ioBytes(Files.readString(dir.resolve("io"), StandardCharsets.ISO_8859_1));
                ticks += cpuTicks(Files.readString(dir.resolve("stat"), StandardCharsets.ISO_8859_1));
                any = true;
            } catch (IOException | RuntimeException e) {
                // gone meanwhile, or /proc not readable: this process does not count
            }
        }
        return any ? Optional.of(new Sample(bytes, ticks)) : Optional.empty();
    }

    /** {@code rchar + wchar} of a {@code /proc/<pid>/io}. */
    static long ioBytes(String io) {
        long sum = 0;
        for (String line : io.split("\n")) {
            if (line.startsWith("rchar:") || line.startsWith("wchar:")) {
                sum += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return sum;
    }

    /** {@code utime + stime} (fields 14 and 15) of a {@code /proc/<pid>/stat}; the name in parentheses may hold blanks. */
    static long cpuTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
