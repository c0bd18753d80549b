package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.proc.ProcStats;
import io.rtbackup.bench.report.Measure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Start-up on a large tree the replica already holds: time from launching the process until it watches for
 * changes (rtbackup: its capture source started; lsyncd: an inotify watch on every directory, counted in
 * /proc/PID/fdinfo), until its initial sync is done, and then one change's latency.
 */
public final class Startup implements Workload {
    private static final int DIRS_PER_TOP = 1000;

    private final int dirs;
    private final int files;
    private int probe;

    public Startup(int dirs, int files) {
        this.dirs = dirs;
        this.files = files;
    }

    @Override
    public String id() {
        return "startup";
    }

    @Override
    public String title() {
        return String.format("4. Large tree start-up: %,d directories, %,d files", dirs, files);
    }

    @Override
    public String description() {
        return String.format("%,d leaf directories under %d top directories, %,d files of 32 bytes, already on the "
                + "replica. Start -> watching, start -> initial sync done, then one new file's change->replica "
                + "latency; peak RSS after that.", dirs, tops(), files);
    }

    private int tops() {
        return (dirs + DIRS_PER_TOP - 1) / DIRS_PER_TOP;
    }

    @Override
    public int expectedDirs() {
        return dirs + tops() + 1;
    }

    @Override
    public boolean includes(Contender c) {
        if (c instanceof io.rtbackup.bench.contender.RtbSplit s) {
            return s.workers() == 1;
        }
        return !(c instanceof io.rtbackup.bench.contender.Lsyncd l) || l.delaySeconds().isEmpty();
    }

    private static String leaf(int i) {
        return String.format("t%03d/d%06d", i / DIRS_PER_TOP, i);
    }

    @Override
    public void prepare(Path src) throws IOException {
        byte[] content = "0123456789abcdef0123456789abcde\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < dirs; i++) {
            Files.createDirectories(src.resolve(leaf(i)));
        }
        for (int f = 0; f < files; f++) {
            Files.write(src.resolve(leaf(f % dirs)).resolve(String.format("f%07d", f)), content);
        }
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        try (Running r = c.start(site)) {
            String rel = leaf(dirs - 1) + "/probe-" + probe++;
            Files.write(site.source().resolve(rel), "probe\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            long tDone = -1;
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                if (Files.exists(site.replica().resolve(rel))) {
                    tDone = System.nanoTime();
                    break;
                }
                Sleep.ms(10);
            }
            out.put("start -> watching", Measure.seconds((r.watchingNanos() - r.startedNanos()) / 1e9));
            out.put("start -> initial sync done", Measure.seconds((r.readyNanos() - r.startedNanos()) / 1e9));
            out.put("then one change -> replica", tDone < 0 ? Measure.missing(Measure.Unit.MS)
                    : Measure.ms((tDone - t0) / 1e6));
            out.put("peak RSS (VmHWM)", Measure.mib(ProcStats.peakRssKib(r.measuredPid()).orElse(-1) / 1024.0));
            System.out.printf("  %s: watching after %.2f s, initial sync done after %.2f s%n", c.label(),
                    (r.watchingNanos() - r.startedNanos()) / 1e9, (r.readyNanos() - r.startedNanos()) / 1e9);
        }
        return out;
    }
}
