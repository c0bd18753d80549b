package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.worker.SyncReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Change-to-replica latency and coalescing of the whole pipeline (fanotify agent, worker, two rsync daemons, one
 * broker, all on this machine). Prints figures; asserts nothing about speed. Run with {@code bench/run pipeline}.
 */
@Tag("benchmark")
@ExtendWith(KafkaBrokerExtension.class)
class PipelineBenchmark {

    @Test
    void latencyAndCoalescing(KafkaBroker broker) throws Exception {
        int seconds = Integer.getInteger("rtb.bench.seconds", 30);
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "| workload | changes | batches | p50 ms | p95 ms | p99 ms | max ms | "
            + "events/paths synced | converged after |%n|---|---|---|---|---|---|---|---|---|%n"));
        try (Fleet fleet = new Fleet(broker)) {
            ByteFs.mkdir(join(fleet.source, utf8("steady")));
            ByteFs.mkdir(join(fleet.source, utf8("storm")));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            for (int rate : new int[] {10, 100}) {
                fleet.reports.clear();
                double before = counter(fleet, "rtb_worker_events_synced");
                double pathsBefore = counter(fleet, "rtb_worker_paths_synced");
                long period = 1_000_000_000L / rate;
                long start = System.nanoTime();
                int n = rate * seconds;
                for (int i = 0; i < n; i++) {
                    long due = start + i * period;
                    long wait = due - System.nanoTime();
                    if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    // 100 files, each rewritten in turn: every change is a new content for its path
                    ByteFs.write(join(fleet.source, utf8("steady"), utf8("f" + (i % 100))), utf8("change " + i));
                }
                long converged = awaitBoth(fleet);
                out.append(row("steady " + rate + "/s for " + seconds + " s", n, fleet,
                    counter(fleet, "rtb_worker_events_synced") - before,
                    counter(fleet, "rtb_worker_paths_synced") - pathsBefore, converged));
            }

            // Storm: 200k small writes over 1k files as fast as this machine goes.
            fleet.reports.clear();
            double before = counter(fleet, "rtb_worker_events_synced");
            double pathsBefore = counter(fleet, "rtb_worker_paths_synced");
            long t0 = System.nanoTime();
            int writes = Integer.getInteger("rtb.bench.storm", 200_000);
            for (int i = 0; i < writes; i++) {
                ByteFs.write(join(fleet.source, utf8("storm"), utf8("s" + (i % 1000))), utf8("storm write " + i));
            }
            long wroteMs = (System.nanoTime() - t0) / 1_000_000;
            long converged = awaitBoth(fleet) + wroteMs;
            out.append(row("storm " + writes + " writes/1k files (" + wroteMs + " ms)", writes, fleet,
                counter(fleet, "rtb_worker_events_synced") - before,
                counter(fleet, "rtb_worker_paths_synced") - pathsBefore, converged));
        }
        out.append(String.format(Locale.ROOT, "%nLatency: capture of the oldest change in a batch to the end of its "
            + "rsync, per batch and destination (agent clock). Converged: time from the last write until both "
            + "destination trees equal the source (polled every 250 ms)."));
        System.out.println(out);
        Path file = Path.of(System.getProperty("rtb.repo.root", ".."), "bench", "results", "pipeline.md");
        Files.createDirectories(file.getParent());
        Files.writeString(file, out.toString());
    }

    private static long awaitBoth(Fleet fleet) {
        long t = System.nanoTime();
        fleet.awaitConverged(fleet.d1, Duration.ofSeconds(300));
        fleet.awaitConverged(fleet.d2, Duration.ofSeconds(300));
        return (System.nanoTime() - t) / 1_000_000;
    }

    private static String row(String name, int changes, Fleet fleet, double events, double paths, long convergedMs) {
        List<Long> lat = new ArrayList<>();
        for (SyncReport r : fleet.reports) if (r.latencyMs() >= 0) lat.add(r.latencyMs());
        Collections.sort(lat);
        return String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %d | %.0f/%.0f = %.1f | %d ms |%n", name, changes,
            fleet.reports.size(), pct(lat, 50), pct(lat, 95), pct(lat, 99), lat.isEmpty() ? -1 : lat.get(lat.size() - 1),
            events, paths, paths == 0 ? 0 : events / paths, convergedMs);
    }

    private static long pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) return -1;
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static double counter(Fleet fleet, String name) {
        double sum = 0;
        for (MetricSnapshot s : fleet.registry.scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
                sum += c.getDataPoints().stream().mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
            }
        }
        return sum;
    }
}
