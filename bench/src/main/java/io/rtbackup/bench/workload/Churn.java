package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.proc.ProcStats;
import io.rtbackup.bench.report.Measure;
import io.rtbackup.testkit.ExternalCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * In the manner of lsyncd's own churn test ({@code tests/churn-rsync.lua}): random creates, appends, renames and
 * moves of files and directories, and deletions of both, in a tree of directories, paced for a fixed time; then
 * the time from the last change until the replica equals the source. Every contender gets the same sequence of
 * operations (fixed seed, same starting tree: {@link #reset} rebuilds it).
 */
public final class Churn implements Workload {
    private static final long SEED = 0x5eed_c4a7L;
    private static final int OPS_PER_SECOND = 200;

    private final int seconds;

    public Churn(int seconds) {
        this.seconds = seconds;
    }

    @Override
    public String id() {
        return "churn";
    }

    @Override
    public String title() {
        return "8. Churn: random creates, moves and deletions";
    }

    @Override
    public String description() {
        return "Like lsyncd's churn test: " + OPS_PER_SECOND + " random operations/s for " + seconds + " s (create a "
                + "file or directory, append, rename or move a file or directory, delete a file or a whole directory) "
                + "in a tree of 20 directories x 20 files; convergence = last change until the replica equals the "
                + "source (TreeDiff), polled every 100 ms.";
    }

    @Override
    public boolean includes(Contender c) {
        return !(c instanceof RtbSplit s) || s.workers() == 1;
    }

    @Override
    public void prepare(Path src) throws IOException {
        Random r = new Random(SEED);
        for (int d = 0; d < 20; d++) {
            Path dir = Files.createDirectories(src.resolve("d" + d));
            for (int f = 0; f < 20; f++) {
                Files.write(dir.resolve("f" + f), Trees.randomBytes(64 + r.nextInt(4000), r.nextLong()));
            }
        }
    }

    @Override
    public void reset(Path src) throws IOException {
        ExternalCommand.of("rm", "-rf", src.toString()).timeout(Duration.ofMinutes(5)).run();
        Files.createDirectories(src);
        prepare(src);
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        try (Running r = c.start(site)) {
            Sleep.ms(1000);
            long pid = r.measuredPid();
            ProcStats.Cpu cpu0 = ProcStats.cpu(pid);
            Random rnd = new Random(SEED + 1);
            int total = OPS_PER_SECOND * seconds;
            long interval = 1_000_000_000L / OPS_PER_SECOND;
            long t0 = System.nanoTime();
            int done = 0;
            for (int k = 0; k < total; k++) {
                Sleep.untilNanos(t0 + k * interval);
                if (step(site.source(), rnd)) done++;
            }
            long tLast = System.nanoTime();
            long tEqual = Trees.awaitEqual(site.source(), site.replica(), 300_000, 100);
            ProcStats.Cpu cpu = ProcStats.cpu(pid).minus(cpu0);
            out.put("operations", Measure.count(done));
            out.put("convergence after the churn ends", tEqual < 0 ? Measure.missing(Measure.Unit.SECONDS)
                    : Measure.seconds((tEqual - tLast) / 1e9));
            out.put("CPU seconds (incl. rsync)", Measure.seconds(cpu.totalSeconds()));
            System.out.printf("  %s: %d operations, converged %s%n", c.label(), done,
                    tEqual < 0 ? "NOT within 300 s" : String.format("%.2f s after the churn", (tEqual - tLast) / 1e9));
        }
        return out;
    }

    /** One random operation; false when it found nothing to act on. */
    private static boolean step(Path src, Random r) throws IOException {
        List<Path> dirs = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try (var walk = Files.walk(src)) {
            walk.forEach(p -> (Files.isDirectory(p) ? dirs : files).add(p));
        }
        Path dir = dirs.get(r.nextInt(dirs.size()));
        int op = r.nextInt(100);
        if (op < 25) {
            Files.write(dir.resolve("n" + r.nextInt(1_000_000)), Trees.randomBytes(1 + r.nextInt(4000), r.nextLong()));
        } else if (op < 45 && !files.isEmpty()) {
            Files.write(files.get(r.nextInt(files.size())), Trees.randomBytes(1 + r.nextInt(512), r.nextLong()),
                    StandardOpenOption.APPEND);
        } else if (op < 60 && !files.isEmpty()) {
            Files.move(files.get(r.nextInt(files.size())), dir.resolve("m" + r.nextInt(1_000_000)),
                    StandardCopyOption.REPLACE_EXISTING);
        } else if (op < 72 && !files.isEmpty()) {
            Files.delete(files.get(r.nextInt(files.size())));
        } else if (op < 82 && dirs.size() < 60) {
            Files.createDirectories(dir.resolve("s" + r.nextInt(1_000_000)));
        } else if (op < 92 && dirs.size() > 2) {
            Path d = dirs.get(1 + r.nextInt(dirs.size() - 1));
            Path to = dirs.get(r.nextInt(dirs.size())).resolve("r" + r.nextInt(1_000_000));
            if (to.startsWith(d)) return false;
            Files.move(d, to);
        } else if (dirs.size() > 10) {
            Path d = dirs.get(1 + r.nextInt(dirs.size() - 1));
            ExternalCommand.of("rm", "-rf", d.toString()).timeout(Duration.ofMinutes(1)).run();
        } else {
            return false;
        }
        return true;
    }
}
