package io.rtbackup.bench.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Memory and CPU of a process from /proc: VmHWM/VmRSS from {@code status}, clock ticks from {@code stat}
 * (utime + stime of the process, cutime + cstime of its reaped children, e.g. the rsync runs it waited for).
 */
public final class ProcStats {
    /** USER_HZ; 100 on every Linux build we run on (sysconf(_SC_CLK_TCK)). */
    private static final double TICKS_PER_SECOND = 100.0;

    private ProcStats() {
    }

    /** Peak resident set (VmHWM) in KiB, empty when the process is gone. */
    public static OptionalLong peakRssKib(long pid) {
        return statusField(pid, "VmHWM:");
    }

    /** Current resident set (VmRSS) in KiB, empty when the process is gone. */
    public static OptionalLong rssKib(long pid) {
        return statusField(pid, "VmRSS:");
    }

    private static OptionalLong statusField(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field)) {
                    return OptionalLong.of(Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]));
                }
            }
        } catch (IOException e) {
            // the process exited between the caller's check and this read
        }
        return OptionalLong.empty();
    }

    /** CPU used so far: own and reaped children's, in seconds. */
    public record Cpu(double ownSeconds, double childrenSeconds) {
        public double totalSeconds() {
            return ownSeconds + childrenSeconds;
        }

        public Cpu minus(Cpu earlier) {
            return new Cpu(ownSeconds - earlier.ownSeconds, childrenSeconds - earlier.childrenSeconds);
        }
    }

    /** CPU of {@code pid} so far, or zero when it is gone. */
    public static Cpu cpu(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            // f[0] is field 3 (state): utime is field 14 -> f[11], stime f[12], cutime f[13], cstime f[14]
            double own = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
            double children = (Long.parseLong(f[13]) + Long.parseLong(f[14])) / TICKS_PER_SECOND;
            return new Cpu(own, children);
        } catch (IOException | RuntimeException e) {
            return new Cpu(0, 0);
        }
    }

    /** Number of inotify watches held by the process (all its inotify descriptors), from /proc/PID/fdinfo. */
    public static int inotifyWatches(long pid) {
        Path fds = Path.of("/proc", Long.toString(pid), "fd");
        int watches = 0;
        try (var stream = Files.list(fds)) {
            for (Path fd : stream.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                if (!target.contains("inotify")) {
                    continue;
                }
                List<String> info = Files.readAllLines(Path.of("/proc", Long.toString(pid), "fdinfo",
                        fd.getFileName().toString()));
                watches += (int) info.stream().filter(l -> l.startsWith("inotify wd:")).count();
            }
        } catch (IOException e) {
            return 0;
        }
        return watches;
    }
}
