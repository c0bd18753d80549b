package io.rtbackup.agent.capture;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.CapturePipeline;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.transport.EventPublisher;
import io.rtbackup.agent.transport.ProducerSettings;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A storm of file operations under one root, captured by the real pipeline (fanotify by default) and published
 * to a real Kafka broker running in a child JVM, so this process's RSS is the agent's own. Prints events/s
 * captured and acknowledged, the peak RSS and the capture -> broker-ack latency. Not a test; run with
 *
 * <pre>
 * java -Xmx128m -cp ... io.rtbackup.agent.capture.CaptureBenchmark [files=50000] [source=fanotify] [dirs=50]
 * </pre>
 *
 * Each file gets four operations: write (create+write+close), append, rename, delete.
 */
public final class CaptureBenchmark {

    public static void main(String[] args) throws Exception {
        int files = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        String source = args.length > 1 ? args[1] : "fanotify";
        int dirs = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.INFO);

        KafkaBroker broker = ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(EmbeddedKafkaBroker.tempLogDir()));
        Topics topics = Topics.withPrefix("bench-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        long[] latencies = new long[files * 8 + 1000];
        AtomicInteger latencyCount = new AtomicInteger();
        AtomicLong acks = new AtomicLong();
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        try (TempDirs tmp = TempDirs.create("rtb-bench")) {
            // what this machine manages without any capture running, for comparison
            byte[] plain = tmp.newDir("plain");
            for (int d = 0; d < dirs; d++) ByteFs.mkdir(BytePaths.join(plain, b("d" + d)));
            long b0 = System.nanoTime();
            long baselineOps = storm(plain, files, dirs, threads);
            double baselineSecs = (System.nanoTime() - b0) / 1e9;
            byte[] root = tmp.newDir("root");
            for (int d = 0; d < dirs; d++) ByteFs.mkdir(BytePaths.join(root, b("d" + d)));
            Properties p = new Properties();
            p.setProperty("host.id", "bench-host");
            p.setProperty("root.r1.path", new String(root, StandardCharsets.US_ASCII));
            p.setProperty("capture.source", source);
            p.setProperty("capture.startup-rescan", "false");
            p.setProperty("publish.buffer-events", "200000");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            CaptureConfig config = CaptureConfig.fromProperties(p);
            PrometheusRegistry registry = new PrometheusRegistry();
            EventPublisher publisher = new EventPublisher(config.hostId(), topics,
                    ProducerSettings.create(config.kafka(), config.hostId()), config.publishBufferEvents(),
                    registry, (ev, latencyNs) -> {
                        acks.incrementAndGet();
                        int i = latencyCount.getAndIncrement();
                        if (i < latencies.length) latencies[i] = latencyNs;
                    }, fatal);
            try (CapturePipeline pipeline = new CapturePipeline(config,
                    CaptureSelection.standard(null, config.scanInterval(), fatal), publisher, registry, fatal)) {
                pipeline.start();
                // warm-up: a few hundred operations outside the measurement
                for (int i = 0; i < 300; i++) ByteFs.write(BytePaths.join(root, b("warm" + i)), b("w"));
                publisher.awaitIdle(Duration.ofSeconds(30));
                double captured0 = counter(registry, "rtb_agent_events_captured");
                long acks0 = acks.get();
                latencyCount.set(0);

                Monitor monitor = new Monitor(registry, acks);
                monitor.start();
                long cpu0 = agentCpuNs();
                java.util.Map<String, Long> threadCpu0 = cpuByThread();
                long t0 = System.nanoTime();
                long ops = storm(root, files, dirs, threads);
                long tOps = System.nanoTime();
                boolean idle = publisher.awaitIdle(Duration.ofSeconds(300));
                Thread.sleep(300);
                monitor.stop = true;
                monitor.join();
                double agentCpuSecs = (agentCpuNs() - cpu0) / 1e9;

                double captured = counter(registry, "rtb_agent_events_captured") - captured0;
                long published = acks.get() - acks0;
                double overflows = counter(registry, "rtb_agent_capture_overflows");
                double dropped = counter(registry, "rtb_agent_events_dropped_to_rescan");
                double merged = counter(registry, "rtb_agent_events_merged");
                double captureSecs = (monitor.lastCaptureChangeNs - t0) / 1e9;
                double publishSecs = (monitor.lastAckChangeNs - t0) / 1e9;
                int n = Math.min(latencyCount.get(), latencies.length);
                long[] lat = Arrays.copyOf(latencies, n);
                Arrays.sort(lat);

                System.out.printf("%n=== rtbackup capture benchmark (source %s, broker %s) ===%n",
                        pipeline.source().name(), broker.kind());
                System.out.printf("without capture     %,d file operations in %.2f s = %,.0f ops/s (%d threads)%n",
                        baselineOps, baselineSecs, baselineOps / baselineSecs, threads);
                System.out.printf("file operations     %,d (%,d files x write/append/rename/delete) in %.2f s = %,.0f ops/s%n",
                        ops, files, (tOps - t0) / 1e9, ops / ((tOps - t0) / 1e9));
                System.out.printf("events captured     %,.0f in %.2f s = %,.0f events/s%n", captured, captureSecs,
                        captured / captureSecs);
                System.out.printf("events published    %,d acknowledged in %.2f s = %,.0f events/s (%,.0f merged away)%n",
                        published, publishSecs, published / publishSecs, merged);
                System.out.printf("overflows/rescans   %.0f, dropped-to-rescan %.0f, publisher idle at end: %s%n",
                        overflows, dropped, idle);
                System.out.printf("capture->ack        p50 %.1f ms, p99 %.1f ms, max %.1f ms (%,d samples)%n",
                        pct(lat, 0.50), pct(lat, 0.99), n == 0 ? 0 : lat[n - 1] / 1e6, n);
                System.out.printf("agent CPU           %.2f s for %,.0f captured events = %,.0f events per CPU-second"
                        + " (capture, normalise, encode, produce; the storm threads excluded)%n",
                        agentCpuSecs, captured, captured / agentCpuSecs);
                java.util.Map<String, Long> threadCpu1 = cpuByThread();
                StringBuilder perThread = new StringBuilder();
                threadCpu1.forEach((name, t) -> {
                    double secs = (t - threadCpu0.getOrDefault(name, 0L)) / 1e9;
                    if (secs >= 0.05) perThread.append(String.format("%s %.2f s; ", name, secs));
                });
                System.out.printf("agent CPU by thread %s%n", perThread);
                System.out.printf("agent RSS           now %s, peak %s (JVM max heap %d MiB)%n", status("VmRSS"),
                        status("VmHWM"), Runtime.getRuntime().maxMemory() >> 20);
            }
        } finally {
            broker.close();
        }
        fatal.assertNone(); // a part that gave up would make the numbers meaningless
        System.exit(0);
    }

    /** write, append, rename, delete of {@code files} files spread over {@code dirs}, on {@code threads}. */
    private static long storm(byte[] root, int files, int dirs, int threads) throws Exception {
        byte[] data = new byte[100];
        Arrays.fill(data, (byte) 'x');
        AtomicLong ops = new AtomicLong();
        Thread[] ts = new Thread[threads];
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            final int first = t;
            ts[t] = new Thread(() -> {
                try {
                    long n = 0;
                    for (int i = first; i < files; i += threads) {
                        ByteFs.write(path(root, i % dirs, "f" + i), data);
                        n++;
                    }
                    for (int i = first; i < files; i += threads) {
                        ByteFs.append(path(root, i % dirs, "f" + i), data);
                        n++;
                    }
                    for (int i = first; i < files; i += threads) {
                        ByteFs.rename(path(root, i % dirs, "f" + i), path(root, (i + 1) % dirs, "g" + i));
                        n++;
                    }
                    for (int i = first; i < files; i += threads) {
                        ByteFs.delete(path(root, (i + 1) % dirs, "g" + i));
                        n++;
                    }
                    ops.addAndGet(n);
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "storm-" + t);
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        if (failure.get() != null) throw new IllegalStateException("storm failed", failure.get());
        return ops.get();
    }

    /** CPU time of this JVM's threads except the storm generators and the benchmark's own main/monitor. */
    private static long agentCpuNs() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (java.lang.management.ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti == null) continue;
            String n = ti.getThreadName();
            if (n.startsWith("storm-") || n.equals("main") || n.equals("bench-monitor")) continue;
            long t = mx.getThreadCpuTime(ti.getThreadId());
            if (t > 0) sum += t;
        }
        return sum;
    }

    private static java.util.Map<String, Long> cpuByThread() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (java.lang.management.ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti == null || ti.getThreadName().startsWith("storm-")) continue;
            long t = mx.getThreadCpuTime(ti.getThreadId());
            if (t > 0) out.merge(ti.getThreadName().replaceAll(" \\| .*", ""), t, Long::sum);
        }
        return out;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] path(byte[] root, int dir, String name) {
        return BytePaths.join(root, b("d" + dir), b(name));
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e6;
    }

    private static String status(String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                long kb = Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
                return String.format("%.1f MiB", kb / 1024.0);
            }
        }
        return "?";
    }

    static double counter(PrometheusRegistry registry, String name) {
        double sum = 0;
        for (MetricSnapshot s : registry.scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) sum += d.getValue();
            }
        }
        return sum;
    }

    /** Samples the counters to find when capture and publishing finished. */
    private static final class Monitor extends Thread {
        private final PrometheusRegistry registry;
        private final AtomicLong acks;
        volatile boolean stop;
        volatile long lastCaptureChangeNs = System.nanoTime();
        volatile long lastAckChangeNs = System.nanoTime();

        Monitor(PrometheusRegistry registry, AtomicLong acks) {
            this.registry = registry;
            this.acks = acks;
            setName("bench-monitor");
            setDaemon(true);
        }

        @Override
        public void run() {
            double lastCaptured = -1;
            long lastAcks = -1;
            while (!stop) {
                double c = counter(registry, "rtb_agent_events_captured");
                long a = acks.get();
                long now = System.nanoTime();
                if (c != lastCaptured) {
                    lastCaptured = c;
                    lastCaptureChangeNs = now;
                }
                if (a != lastAcks) {
                    lastAcks = a;
                    lastAckChangeNs = now;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
