package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.HistogramMeans;
import io.rtbackup.bench.measure.Percentiles;
import io.rtbackup.bench.measure.ReplicaWatcher;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.proc.ProcStats;
import io.rtbackup.bench.report.Measure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady changes at a fixed rate: each change rewrites one small file (round robin over 1,000 files in 10
 * directories) with a new sequence number; its latency runs from the writer's close() to the moment the replica
 * holds that sequence number or a later one (seen through inotify on the replica).
 */
public final class Latency implements Workload {
    private static final String PUBLISH = "rtb_agent_publish_latency_seconds";
    private static final String RSYNC = "rtb_agent_rsync_duration_seconds";
    private static final String WORKER_LATENCY = "rtb_worker_change_to_replica_seconds";

    private final int changesPerSecond;
    private final int seconds;
    private final int warmupSeconds;
    private final boolean withAgentAlone;
    private final AtomicLong seq = new AtomicLong();
    private final SmallFiles tree = SmallFiles.standard();

    public Latency(int changesPerSecond, int seconds, int warmupSeconds, boolean withAgentAlone) {
        this.changesPerSecond = changesPerSecond;
        this.seconds = seconds;
        this.warmupSeconds = warmupSeconds;
        this.withAgentAlone = withAgentAlone;
    }

    @Override
    public String id() {
        return "latency" + changesPerSecond;
    }

    @Override
    public String title() {
        return "1. Latency at " + changesPerSecond + " changes/s";
    }

    @Override
    public String description() {
        return "After " + warmupSeconds + " s of warm-up at the same rate (not measured), " + changesPerSecond
                + " changes/s for " + seconds + " s (" + changesPerSecond * seconds + " changes), each rewriting one of 1,000 small files; change->replica latency from the writer's "
                + "close() to the replica showing that content (inotify on the destination directory).";
    }

    @Override
    public boolean includes(Contender c) {
        return !(c instanceof RtbSplit s) || (withAgentAlone && s.workers() == 1);
    }

    @Override
    public void prepare(Path src) throws IOException {
        tree.create(src);
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        try (Running r = c.start(site)) {
            List<String> watched = new ArrayList<>(tree.dirs());
            try (ReplicaWatcher w = new ReplicaWatcher(site.replica(), watched)) {
                // warm-up at the same rate, not measured: the figures are steady state, not a JVM's first seconds
                long w0 = System.nanoTime();
                long interval = 1_000_000_000L / changesPerSecond;
                for (int k = 0; k < changesPerSecond * warmupSeconds; k++) {
                    Sleep.untilNanos(w0 + k * interval);
                    String rel = tree.fileFor(k);
                    Files.write(site.source().resolve(rel), ReplicaWatcher.content(seq.incrementAndGet()));
                }
                Sleep.ms(3000);
                daemonLog.mark();
                long pid = r.measuredPid();
                ProcStats.Cpu cpu0 = ProcStats.cpu(pid);
                HistogramMeans means = new HistogramMeans(r, PUBLISH, RSYNC, WORKER_LATENCY);
                int total = changesPerSecond * seconds;
                long t0 = System.nanoTime();
                for (int k = 0; k < total; k++) {
                    Sleep.untilNanos(t0 + k * interval);
                    String rel = tree.fileFor(k);
                    long s = seq.incrementAndGet();
                    Files.write(site.source().resolve(rel), ReplicaWatcher.content(s));
                    w.changed(rel, s, System.nanoTime());
                }
                long tEnd = System.nanoTime();
                ProcStats.Cpu cpu = ProcStats.cpu(pid).minus(cpu0);
                long drainDeadline = System.currentTimeMillis() + 60_000;
                while (w.unresolved() > 0 && System.currentTimeMillis() < drainDeadline) {
                    Sleep.ms(50);
                }
                DaemonLog.Totals totals = daemonLog.settle(15_000);
                Percentiles p = Percentiles.of(w.latenciesMs());
                double windowS = (tEnd - t0) / 1e9;
                out.put("latency p50", Measure.ms(p.p50()));
                out.put("latency p95", Measure.ms(p.p95()));
                out.put("latency p99", Measure.ms(p.p99()));
                out.put("latency max", Measure.ms(p.max()));
                out.put("changes seen in the replica", Measure.count(p.count()));
                out.put("changes not replicated within 60 s", Measure.count(w.unresolved()));
                out.put("rsync connections", Measure.count(totals.connections()));
                out.put("rsync file entries", Measure.count(totals.fileEntries()));
                out.put("bytes on the wire", Measure.bytes(totals.bytesReceived()));
                out.put("CPU, % of one core (incl. rsync)", Measure.percent(100 * cpu.totalSeconds() / windowS));
                out.put("  of which the process itself", Measure.percent(100 * cpu.ownSeconds() / windowS));
                out.put("  of which reaped rsync children", Measure.percent(100 * cpu.childrenSeconds() / windowS));
                if (c.isRtbackup()) {
                    out.put("rtb: mean capture -> Kafka ack (agent metric)", Measure.ms(means.meanMs(PUBLISH)));
                    out.put("rtb: mean rsync run (agent metric)", Measure.ms(means.meanMs(RSYNC)));
                    out.put("rtb: rsync runs (agent metric)", Measure.count(means.count(RSYNC)));
                    out.put("rtb: mean change -> replica (worker metric)", Measure.ms(means.meanMs(WORKER_LATENCY)));
                }
                out.put("peak RSS (VmHWM)", Measure.mib(ProcStats.peakRssKib(pid).orElse(-1) / 1024.0));
                System.out.printf("  %s: %d changes in %.1f s, p50 %.0f ms, p99 %.0f ms, %d unresolved, cpu %.1f s%n",
                        c.label(), total, windowS, p.p50(), p.p99(), w.unresolved(), cpu.totalSeconds());
            }
        }
        return out;
    }
}
