package io.rtbackup.worker;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.testing.Events;
import io.rtbackup.worker.testing.TestAgent;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Prints the worker's own share of change-to-replica latency and its coalescing ratio, against a real broker and an
 * agent stand-in that answers OK at once (no rsync: that cost is the end-to-end benchmark's). Latency here is the
 * time from an event's capture time to the (instant) end of its command: Kafka hops event -> worker -> command, plus
 * coalescing. Not part of the default test run (tag {@code benchmark}):
 * {@code mvn -pl backup-worker test -Dtest=WorkerBenchmark -DexcludedGroups=none}.
 */
@Tag("benchmark")
@ExtendWith(KafkaBrokerExtension.class)
class WorkerBenchmark {

    @Test
    void latencyAndCoalescing(KafkaBroker broker) throws Exception {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-22s %8s %8s %8s %9s %9s %9s %10s%n", "scenario", "events", "paths",
            "ratio", "p50 ms", "p99 ms", "max ms", "drain s"));
        out.append(run(broker, "steady 100/s, 10 s", 100, 1000, 200));
        out.append(run(broker, "storm 20k over 500", 0, 20_000, 500));
        System.out.print(out);
    }

    /** @param rate events per second, 0 = as fast as the producer goes */
    private String run(KafkaBroker broker, String name, int rate, int count, int distinctPaths) throws Exception {
        try (Events events = new Events(broker.bootstrapServers());
             TestAgent ignoredAgent = answering(events)) {
            String dest = Events.uniqueDestination("bench");
            Properties p = new Properties();
            p.setProperty("worker.id", "bench");
            p.setProperty("destination." + dest + ".routes", "*:*");
            // e.g. -Dbench.worker.coalesce.catch-up-lag=1000 to compare settings
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("bench.worker."))
                .forEach(k -> p.setProperty(k.substring("bench.worker.".length()), System.getProperty(k)));
            List<SyncReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
            RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
            try (Worker w = new Worker(WorkerConfig.fromProperties(p), events.topics, events.bootstrap,
                new PrometheusRegistry(), reports::add, fatal)) {
                w.start();
                if (!w.awaitReady(Duration.ofSeconds(60))) throw new IllegalStateException("worker not ready");
                // Warm-up (JIT, client metadata, first fetches) on another root, not measured.
                for (int i = 0; i < 300; i++) {
                    events.eventAsync("h" + (i % 4), "warmup", "f" + i, FileOp.CLOSE_WRITE);
                    Thread.sleep(5);
                }
                events.flush();
                long warmDeadline = System.nanoTime() + 60_000_000_000L;
                while (reports.stream().mapToInt(SyncReport::events).sum() < 300 && System.nanoTime() < warmDeadline) {
                    Thread.sleep(20);
                }
                reports.clear();
                Random rnd = new Random(42);
                long t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    if (rate > 0) {
                        long due = t0 + i * 1_000_000_000L / rate;
                        long wait = due - System.nanoTime();
                        if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    events.eventAsync("h" + (i % 4), "data", "dir/f" + rnd.nextInt(distinctPaths), FileOp.CLOSE_WRITE);
                }
                events.flush();
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (reports.stream().mapToInt(SyncReport::events).sum() < count && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                double drain = (System.nanoTime() - t0) / 1e9;
                List<SyncReport> done = List.copyOf(reports);
                int events_ = done.stream().mapToInt(SyncReport::events).sum();
                int paths = done.stream().mapToInt(SyncReport::paths).sum();
                long[] lat = done.stream().mapToLong(SyncReport::latencyMs).filter(l -> l >= 0).sorted().toArray();
                fatal.assertNone(); // a pipeline that gave up would make the numbers meaningless
                return String.format(Locale.ROOT, "%-22s %8d %8d %8.2f %9d %9d %9d %10.2f%n", name, events_, paths,
                    paths == 0 ? 0.0 : (double) events_ / paths, pct(lat, 0.50), pct(lat, 0.99),
                    lat.length == 0 ? -1 : lat[lat.length - 1], drain);
            }
        }
    }

    private static TestAgent answering(Events events) {
        return new TestAgent(events.bootstrap, events.topics, TestAgent::allOk);
    }

    private static long pct(long[] sorted, double q) {
        if (sorted.length == 0) return -1;
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))];
    }
}
