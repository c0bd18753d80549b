package io.rtbackup.agent.capture;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.CapturePipeline;
import io.rtbackup.agent.capture.normalise.Normaliser;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.exclude.ExcludeMatcher;
import io.rtbackup.agent.transport.EventPublisher;
import io.rtbackup.agent.transport.ProducerSettings;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The capture side of {@link CaptureBenchmark}, in a process of its own so that it can be pinned to one core
 * ({@code taskset -c 0}): the real capture pipeline (source, normaliser, publisher with its Kafka producer) on
 * one root, publishing to the broker the benchmark started. Driven over stdin, one command a line, answering on
 * stdout:
 *
 * <pre>
 * (start)  -> READY
 * MARK     -> MARKED               counters, CPU times and (with a JFR file argument) a recording start here
 * REPORT   -> REPORT key=value ... after capture went quiet and Kafka acknowledged everything (or 300 s)
 * QUIT     -> closes the pipeline and exits
 * </pre>
 *
 * Args: root, bootstrap servers, topic prefix, source ({@code fanotify+none}: capture and normaliser only, into a
 * counting sink), [jfr file or "-"], then any {@code key=value} agent settings
 * (e.g. {@code publish.buffer-events=200000}).
 */
public final class CaptureBenchAgent {

    public static void main(String[] args) throws Exception {
        String root = args[0];
        String bootstrap = args[1];
        Topics topics = Topics.withPrefix(args[2]);
        // "<source>+none": capture and normaliser only, into a counting sink (no Avro, no Kafka)
        boolean publish = !args[3].endsWith("+none");
        String source = args[3].replace("+none", "");
        String jfrFile = args.length > 4 && !args[4].equals("-") ? args[4] : null;
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);

        Properties p = new Properties();
        p.setProperty("host.id", "bench-host");
        p.setProperty("root.r1.path", root);
        p.setProperty("capture.source", source);
        p.setProperty("capture.startup-rescan", "false");
        p.setProperty("kafka.bootstrap.servers", bootstrap);
        for (int i = 5; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            p.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        CaptureConfig config = CaptureConfig.fromProperties(p);
        PrometheusRegistry registry = new PrometheusRegistry();
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        AtomicLong acks = new AtomicLong();
        // capture -> ack latency in 1 ms buckets up to 60 s (240 KiB: the agent's heap is small, and this is not ours)
        java.util.concurrent.atomic.AtomicIntegerArray latencies = new java.util.concurrent.atomic.AtomicIntegerArray(60_001);
        EventPublisher publisher = new EventPublisher(config.hostId(), topics,
                ProducerSettings.create(config.kafka(), config.hostId()), config.publishBufferEvents(), registry,
                (ev, latencyNs) -> {
                    acks.incrementAndGet();
                    latencies.incrementAndGet((int) Math.min(60_000, latencyNs / 1_000_000));
                }, fatal);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        AutoCloseable running;
        String sourceName;
        if (publish) {
            CapturePipeline pipeline = new CapturePipeline(config,
                    CaptureSelection.standard(null, config.scanInterval(), fatal), publisher, registry, fatal);
            pipeline.start();
            running = pipeline;
            sourceName = pipeline.source().name();
        } else {
            publisher.close();
            Normaliser normaliser = new Normaliser(CapturePipeline.watchedRoots(config).stream()
                    .map(r -> new Normaliser.Root(r, ExcludeMatcher.none())).toList(), config.mergeWindow(),
                    ev -> acks.incrementAndGet(), registry, fatal);
            normaliser.start();
            CaptureSource src = CaptureSelection.standard(null, config.scanInterval(), fatal).start(config.source(),
                    CapturePipeline.watchedRoots(config), s -> normaliser.sinkFor(s.kind()));
            running = () -> {
                src.close();
                normaliser.close();
            };
            sourceName = src.name() + " (capture and normaliser only: nothing published)";
        }
        try (AutoCloseable closing = running) {
            System.out.println("READY " + sourceName);
            System.out.flush();
            Monitor monitor = new Monitor(registry, acks);
            monitor.start();
            Baseline base = null;
            jdk.jfr.Recording recording = null;
            for (String line; (line = in.readLine()) != null; ) {
                switch (line.trim()) {
                    case "MARK" -> {
                        for (int i = 0; i < latencies.length(); i++) latencies.set(i, 0);
                        base = new Baseline(counter(registry, "rtb_agent_events_captured"), acks.get(),
                                counter(registry, "rtb_agent_capture_overflows"),
                                counter(registry, "rtb_agent_events_dropped_to_rescan"),
                                counter(registry, "rtb_agent_events_merged"), cpuTicks(), cpuByThread(), gcMs(), gcCount(),
                                ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
                        if (jfrFile != null) {
                            recording = new jdk.jfr.Recording(); // only the samples: the "profile" settings cost heap
                            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
                            recording.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(10));
                            recording.setDestination(Path.of(jfrFile));
                            recording.start();
                        }
                        System.out.println("MARKED");
                    }
                    case "REPORT" -> {
                        boolean idle = awaitQuiet(publish ? publisher : null, monitor);
                        if (recording != null) {
                            recording.stop(); // written to its destination
                            recording.close();
                            recording = null;
                        }
                        report(registry, acks, base, monitor, idle, latencies);
                        System.out.println("failures=" + fatal.reports().size() + (fatal.reports().isEmpty() ? "" : " " + fatal.reports()));
                    }
                    case "QUIT" -> {
                        return;
                    }
                    default -> System.out.println("unknown command " + line);
                }
                System.out.flush();
            }
        } finally {
            System.out.flush();
        }
    }

    private record Baseline(double captured, long acks, double overflows, double dropped, double merged,
            long[] cpuTicks, Map<String, Long> threadCpu, long gcMs, long gcCount, long jitMs) {}

    private static long gcMs() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> g.getCollectionTime()).sum();
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> g.getCollectionCount()).sum();
    }

    /** Until capture has been quiet for 500 ms and the publisher holds nothing unacknowledged, at most 300 s. */
    private static boolean awaitQuiet(EventPublisher publisher, Monitor monitor) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            boolean quiet = System.currentTimeMillis() * 1_000_000L - monitor.lastCaptureChangeNs > 500_000_000L;
            if (quiet && (publisher == null || publisher.awaitIdle(Duration.ofMillis(1)))) return true;
            Thread.sleep(50);
        }
        return false;
    }

    private static void report(PrometheusRegistry registry, AtomicLong acks, Baseline b, Monitor monitor,
            boolean idle, java.util.concurrent.atomic.AtomicIntegerArray latencies) throws Exception {
        long[] ticks = cpuTicks();
        long hz = 100; // USER_HZ on Linux
        double userS = (ticks[0] - b.cpuTicks[0]) / (double) hz;
        double sysS = (ticks[1] - b.cpuTicks[1]) / (double) hz;
        long n = 0;
        int maxMs = 0;
        for (int i = 0; i < latencies.length(); i++) {
            n += latencies.get(i);
            if (latencies.get(i) > 0) maxMs = i;
        }
        StringBuilder threads = new StringBuilder();
        cpuByThread().forEach((name, t) -> {
            double secs = (t - b.threadCpu.getOrDefault(name, 0L)) / 1e9;
            if (secs >= 0.05) threads.append(String.format("%s:%.2f,", name.replace(' ', '_'), secs));
        });
        System.out.printf("REPORT captured=%.0f acked=%d overflows=%.0f dropped_to_rescan=%.0f merged=%.0f"
                        + " last_capture_ns=%d last_ack_ns=%d idle=%s user_s=%.2f sys_s=%.2f"
                        + " lat_p50_ms=%.1f lat_p99_ms=%.1f lat_max_ms=%.1f rss_peak_mib=%.1f heap_max_mib=%d"
                        + " gc_ms=%d gc_count=%d jit_ms=%d threads=%s%n",
                counter(registry, "rtb_agent_events_captured") - b.captured, acks.get() - b.acks,
                counter(registry, "rtb_agent_capture_overflows") - b.overflows,
                counter(registry, "rtb_agent_events_dropped_to_rescan") - b.dropped,
                counter(registry, "rtb_agent_events_merged") - b.merged, monitor.lastCaptureChangeNs,
                monitor.lastAckChangeNs, idle, userS, sysS, pct(latencies, n, 0.5), pct(latencies, n, 0.99),
                (double) maxMs, status("VmHWM") / 1024.0, Runtime.getRuntime().maxMemory() >> 20,
                gcMs() - b.gcMs, gcCount() - b.gcCount,
                ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - b.jitMs, threads);
    }

    /** utime and stime of this process, in clock ticks ({@code /proc/self/stat} fields 14 and 15). */
    private static long[] cpuTicks() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    private static Map<String, Long> cpuByThread() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> out = new TreeMap<>();
        for (ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti == null) continue;
            long t = mx.getThreadCpuTime(ti.getThreadId());
            if (t > 0) out.merge(ti.getThreadName().replaceAll(" \\| .*", ""), t, Long::sum);
        }
        return out;
    }

    /** The bucket (ms) holding the {@code q} quantile of {@code n} samples. */
    private static double pct(java.util.concurrent.atomic.AtomicIntegerArray buckets, long n, double q) {
        long rank = (long) Math.floor(q * n);
        long seen = 0;
        for (int i = 0; i < buckets.length(); i++) {
            seen += buckets.get(i);
            if (seen > rank) return i;
        }
        return 0;
    }

    private static long status(String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
        }
        return -1;
    }

    static double counter(PrometheusRegistry registry, String name) {
        double sum = 0;
        for (MetricSnapshot s : registry.scrape(n -> n.startsWith(name))) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) sum += d.getValue();
            }
        }
        return sum;
    }

    /** Samples the counters every 25 ms to find when capture and publishing last moved (wall clock, ns). */
    private static final class Monitor extends Thread {
        private final PrometheusRegistry registry;
        private final AtomicLong acks;
        volatile long lastCaptureChangeNs = System.currentTimeMillis() * 1_000_000L;
        volatile long lastAckChangeNs = lastCaptureChangeNs;

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
            while (true) {
                double c = counter(registry, "rtb_agent_events_captured");
                long a = acks.get();
                long now = System.currentTimeMillis() * 1_000_000L;
                if (c != lastCaptured) {
                    lastCaptured = c;
                    lastCaptureChangeNs = now;
                }
                if (a != lastAcks) {
                    lastAcks = a;
                    lastAckChangeNs = now;
                }
                try {
                    Thread.sleep(25);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
