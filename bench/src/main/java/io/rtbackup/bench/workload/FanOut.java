package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.Lsyncd;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Percentiles;
import io.rtbackup.bench.measure.ReplicaWatcher;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.report.Measure;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One source, three destinations; steady changes while all three answer, then while the third one's daemon is
 * stopped, then the third comes back. What matters: the two healthy destinations' latency must not move when the
 * third is down, and the third must catch up (every change, nothing lost) when it returns.
 */
public final class FanOut implements Workload {
    private static final long CATCH_UP_TIMEOUT_MS = 180_000;

    private final int changesPerSecond;
    private final int seconds;
    private final int warmupSeconds;
    private final AtomicLong seq = new AtomicLong();
    private final SmallFiles tree = SmallFiles.standard();

    public FanOut(int changesPerSecond, int seconds, int warmupSeconds) {
        this.changesPerSecond = changesPerSecond;
        this.seconds = seconds;
        this.warmupSeconds = warmupSeconds;
    }

    @Override
    public String id() {
        return "fanout";
    }

    @Override
    public String title() {
        return "5. Fan-out: three destinations, one of them down";
    }

    @Override
    public String description() {
        return changesPerSecond + " changes/s to small files, replicated to three destinations (three rsync daemons): "
                + seconds + " s with all three up, then " + seconds + " s with the third daemon stopped; latency "
                + "measured on the two healthy ones (inotify on their replicas). Then the third daemon restarts and "
                + "the time from when it accepts connections again until its replica equals the source is measured "
                + "(the daemon's own restart is shown apart).";
    }

    @Override
    public void prepare(Path src) throws IOException {
        tree.create(src);
    }

    @Override
    public boolean includes(Contender c) {
        // rtb up replicates to one destination; lsyncd's default 15 s delay would measure only the delay
        return (c instanceof RtbSplit s && s.workers() == 1) || (c instanceof Lsyncd l && l.delaySeconds().isPresent());
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        Path dir = Files.createTempDirectory(site.workDir(), "fanout-" + c.id() + "-");
        List<RsyncDaemon> started = new ArrayList<>();
        try {
            List<Site.Destination> more = new ArrayList<>();
            for (int i = 2; i <= 3; i++) {
                Path d = dir.resolve("daemon" + i);
                Path m = dir.resolve("m" + i);
                Files.createDirectories(d);
                Files.createDirectories(m);
                RsyncDaemon daemon = RsyncDaemon.builder(Trees.ascii(d.toString())).module("m", Trees.ascii(m.toString())).start();
                started.add(daemon);
                Site.Destination dest = new Site.Destination(daemon, "m");
                Trees.mirror(site.source(), dest.replica());
                more.add(dest);
            }
            Site fan = site.withMore(more);
            RsyncDaemon third = started.get(1);
            try (Running r = c.start(fan)) {
                steady(changesPerSecond * warmupSeconds, fan, List.of());
                Sleep.ms(3000);
                Percentiles allUp = healthyLatency(fan, "all up");
                third.stop();
                Percentiles oneDown = healthyLatency(fan, "third down");
                // Measured from the moment the daemon accepts connections again (restart() returns then): the
                // restart itself (fork, a lingering socket retried every 200 ms) took 0.1 to 4.5 s on a loaded
                // machine, during which neither tool can do anything, and only moved both figures at random.
                long tRestart = System.nanoTime();
                third.restart();
                long t0 = System.nanoTime();
                long equal = Trees.awaitEqual(fan.source(), more.get(1).replica(), CATCH_UP_TIMEOUT_MS, 100);
                out.put("healthy destinations: latency p50, all up", Measure.ms(allUp.p50()));
                out.put("healthy destinations: latency p99, all up", Measure.ms(allUp.p99()));
                out.put("healthy destinations: latency p50, third down", Measure.ms(oneDown.p50()));
                out.put("healthy destinations: latency p99, third down", Measure.ms(oneDown.p99()));
                out.put("healthy p99 third down / all up", Measure.ratio(oneDown.p99() / allUp.p99()));
                out.put("healthy changes seen (both phases, both replicas)", Measure.count(allUp.count() + oneDown.count()));
                out.put("third destination: back to equal after restart",
                        equal < 0 ? Measure.missing(Measure.Unit.SECONDS) : Measure.seconds((equal - t0) / 1e9));
                out.put("third destination: daemon restart (not counted above)", Measure.seconds((t0 - tRestart) / 1e9));
                System.out.printf("  %s: healthy p99 %.0f ms all up, %.0f ms one down; third equal after %s (its restart: %.1f s)%n",
                        c.label(), allUp.p99(), oneDown.p99(),
                        equal < 0 ? "never (timeout)" : String.format("%.1f s", (equal - t0) / 1e9), (t0 - tRestart) / 1e9);
            }
        } finally {
            for (RsyncDaemon d : started) {
                d.close();
            }
        }
        return out;
    }

    /** Runs a phase of steady changes and returns the latency seen on the site's first two destinations. */
    private Percentiles healthyLatency(Site site, String phase) throws IOException {
        try (ReplicaWatcher w1 = new ReplicaWatcher(site.replica(), tree.dirs());
             ReplicaWatcher w2 = new ReplicaWatcher(site.more().get(0).replica(), tree.dirs())) {
            steady(changesPerSecond * seconds, site, List.of(w1, w2));
            long deadline = System.currentTimeMillis() + 60_000;
            while ((w1.unresolved() > 0 || w2.unresolved() > 0) && System.currentTimeMillis() < deadline) {
                Sleep.ms(50);
            }
            if (w1.unresolved() + w2.unresolved() > 0) {
                throw new IOException(phase + ": " + (w1.unresolved() + w2.unresolved())
                        + " changes did not reach the healthy destinations within 60 s");
            }
            double[] a = w1.latenciesMs();
            double[] b = w2.latenciesMs();
            double[] all = new double[a.length + b.length];
            System.arraycopy(a, 0, all, 0, a.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            return Percentiles.of(all);
        }
    }

    private void steady(int changes, Site site, List<ReplicaWatcher> watchers) throws IOException {
        long t0 = System.nanoTime();
        long interval = 1_000_000_000L / changesPerSecond;
        for (int k = 0; k < changes; k++) {
            Sleep.untilNanos(t0 + k * interval);
            long s = seq.incrementAndGet();
            String rel = tree.fileFor(s);
            Files.write(site.source().resolve(rel), ReplicaWatcher.content(s));
            long now = System.nanoTime();
            for (ReplicaWatcher w : watchers) {
                w.changed(rel, s, now);
            }
        }
    }
}
