package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.proc.ProcStats;
import io.rtbackup.bench.report.Measure;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * A write storm: N small appends (open, write 16 bytes, close: one close-write event each) spread round robin
 * over 1,000 files, paced to take about 10 s; then the time until the replica equals the source (TreeDiff).
 */
public final class Storm implements Workload {
    private static final int FILES = 1000;
    private static final long TARGET_NANOS = 10_000_000_000L;
    /** Events the agent's publisher folded into an identical one still waiting to be sent. */
    private static final String MERGED = "rtb_agent_publish_merged_total";

    private final int writes;
    private final List<String> files = new ArrayList<>();

    public Storm(int writes) {
        this.writes = writes;
        for (int i = 0; i < FILES; i++) {
            files.add(String.format("d%02d/f%03d", i / 100, i % 100));
        }
    }

    @Override
    public String id() {
        return "storm";
    }

    @Override
    public String title() {
        return "2. Storm: " + String.format("%,d", writes) + " small writes over 1,000 files";
    }

    @Override
    public String description() {
        return String.format("%,d appends of 16 bytes (open, write, close each), round robin over 1,000 files in 10 "
                + "directories, paced to about 10 s; convergence = last write until the replica equals the source "
                + "(TreeDiff: names, types, content, modes, file mtimes), polled every 250 ms.", writes);
    }

    @Override
    public boolean includes(Contender c) {
        return true;
    }

    @Override
    public void prepare(Path src) throws IOException {
        for (int d = 0; d < 10; d++) {
            Files.createDirectories(src.resolve(String.format("d%02d", d)));
        }
        for (String f : files) {
            Files.write(src.resolve(f), new byte[0]);
        }
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        try (Running r = c.start(site)) {
            Sleep.ms(1000);
            long pid = r.measuredPid();
            OptionalDouble events0 = r.eventsPublished();
            OptionalDouble merged0 = r.metric(MERGED);
            daemonLog.mark();
            ProcStats.Cpu cpu0 = ProcStats.cpu(pid);
            byte[] record = new byte[16];
            long t0 = System.nanoTime();
            for (int i = 0; i < writes; i++) {
                if (i % 1000 == 0) {
                    Sleep.untilNanos(t0 + TARGET_NANOS * i / writes);
                }
                String rel = files.get(i % FILES);
                byte[] line = String.format("%015d\n", i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                System.arraycopy(line, 0, record, 0, 16);
                try (FileOutputStream fo = new FileOutputStream(site.source().resolve(rel).toFile(), true)) {
                    fo.write(record);
                }
            }
            long tWritten = System.nanoTime();
            long tEqual = Trees.awaitEqual(site.source(), site.replica(), 300_000, 250);
            ProcStats.Cpu cpu = ProcStats.cpu(pid).minus(cpu0);
            long tCpu = System.nanoTime();
            DaemonLog.Totals totals = daemonLog.settle(15_000);
            double events = difference(events0, r.eventsPublished());
            double merged = difference(merged0, r.metric(MERGED));
            out.put("writes", Measure.count(writes));
            out.put("write phase", Measure.seconds((tWritten - t0) / 1e9));
            out.put("convergence after last write", tEqual < 0 ? Measure.missing(Measure.Unit.SECONDS)
                    : Measure.seconds((tEqual - tWritten) / 1e9));
            out.put("events published (rtbackup metric)", Measure.count(events));
            out.put("events merged in the publish buffer (rtbackup metric)", Measure.count(merged));
            out.put("rsync connections", Measure.count(totals.connections()));
            out.put("rsync file entries", Measure.count(totals.fileEntries()));
            out.put("writes per rsync file entry", Measure.ratio(
                    totals.fileEntries() == 0 ? Double.NaN : (double) writes / totals.fileEntries()));
            out.put("events per rsync file entry", Measure.ratio(
                    totals.fileEntries() == 0 ? Double.NaN : events / totals.fileEntries()));
            out.put("bytes on the wire", Measure.bytes(totals.bytesReceived()));
            out.put("CPU seconds (incl. rsync), start to convergence", Measure.seconds(cpu.totalSeconds()));
            out.put("CPU, % of one core over that time", Measure.percent(100 * cpu.totalSeconds() / ((tCpu - t0) / 1e9)));
            out.put("peak RSS (VmHWM)", Measure.mib(ProcStats.peakRssKib(pid).orElse(-1) / 1024.0));
            System.out.printf("  %s: %d writes in %.1f s, converged %s, %d rsync entries%n", c.label(), writes,
                    (tWritten - t0) / 1e9, tEqual < 0 ? "NOT within 300 s" : String.format("%.2f s after", (tEqual - tWritten) / 1e9),
                    totals.fileEntries());
        }
        return out;
    }

    private static double difference(OptionalDouble before, OptionalDouble after) {
        return before.isPresent() && after.isPresent() ? after.getAsDouble() - before.getAsDouble() : Double.NaN;
    }
}
