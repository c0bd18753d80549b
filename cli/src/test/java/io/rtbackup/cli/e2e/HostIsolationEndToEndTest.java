package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.ExternalCommand;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.testkit.TreeDiff;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.pipeline.PipelineStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15, item 5, with real agents: three source hosts, each an {@code rtb agent} JVM with fanotify capture, one
 * authenticated rsync daemon, a worker in this JVM. One host has four roots, as many as the destination's slots
 * ({@code bulkhead.max-concurrent=4}). While every host keeps changing files, that host's agent is stopped with
 * SIGSTOP, then continued with SIGCONT. The other two hosts' batch latency p99 while it is stopped must stay within
 * 1.5 times their p99 before; afterwards every host's replica equals its source.
 *
 * <p>The stop lasts {@code -Dhostiso.stop-s} seconds (default 30: six result timeouts of 5 s, longer than the
 * breaker's open wait and every backoff, and three times the stopped agent's command max age of 10 s, so its
 * backlog of commands comes back "expired"); {@code -Dhostiso.stop-s=120} is the two minutes.
 */
@ExtendWith(KafkaBrokerExtension.class)
class HostIsolationEndToEndTest {
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    private static final Duration STOP = Duration.ofSeconds(Long.getLong("hostiso.stop-s", 30));
    private static final Duration BEFORE = Duration.ofSeconds(Long.getLong("hostiso.before-s", 30));
    private static final List<String> LIVE = List.of("live-a", "live-b");
    private static final String STOPPED = "stopped";
    private static final Map<String, List<String>> ROOTS = new LinkedHashMap<>();

    static {
        ROOTS.put("live-a", List.of("data"));
        ROOTS.put("live-b", List.of("data"));
        ROOTS.put(STOPPED, List.of("r1", "r2", "r3", "r4"));
    }

    private record Seen(long atNs, SyncReport report) {
    }

    @Test
    void aStoppedAgentDoesNotSlowTheOtherHostsAndCatchesUpAfterSigcont(KafkaBroker broker) throws Exception {
        List<Process> agents = new ArrayList<>();
        Worker worker = null;
        try (TempDirs tmp = TempDirs.create("rtb-hostiso")) {
            Path dir = Path.of(tmp.pathString());
            RsyncDaemon daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(dir.resolve("daemon"))
                    .toString()))
                .auth("backup", "hostiso secret")
                .module("backup", BytePaths.utf8(Files.createDirectories(dir.resolve("module")).toString())).start();
            try {
                String prefix = "hostiso-" + UUID.randomUUID() + ".";
                Topics topics = Topics.withPrefix(prefix);
                TopicProvisioner.ensure(broker.bootstrapServers(), topics);

                List<Seen> seen = new CopyOnWriteArrayList<>();
                Properties wp = new Properties();
                wp.setProperty("worker.id", "w-hostiso");
                wp.setProperty("destination.d.routes", "*:*");
                wp.setProperty("coalesce.debounce-ms", "100");
                wp.setProperty("coalesce.max-delay-ms", "1000");
                wp.setProperty("retry.initial-backoff-ms", "200");
                wp.setProperty("retry.max-backoff-ms", "2000");
                wp.setProperty("breaker.open-wait-ms", "2000");
                wp.setProperty("bulkhead.max-concurrent", "4");
                wp.setProperty("result.timeout-ms", "5000");
                PrometheusRegistry registry = new PrometheusRegistry();
                worker = new Worker(WorkerConfig.fromProperties(wp), topics, broker.bootstrapServers(), registry,
                    r -> seen.add(new Seen(System.nanoTime(), r)), fatal);
                worker.start();
                assertThat(worker.awaitReady(Duration.ofSeconds(60))).isTrue();

                Map<String, Path> sources = new LinkedHashMap<>();
                Process stoppedAgent = null;
                for (Map.Entry<String, List<String>> host : ROOTS.entrySet()) {
                    Properties p = new Properties();
                    p.setProperty("host.id", host.getKey());
                    for (String root : host.getValue()) {
                        Path src = Files.createDirectories(dir.resolve("src-" + host.getKey() + "-" + root));
                        sources.put(host.getKey() + ":" + root, src);
                        p.setProperty("root." + root + ".path", src.toString());
                    }
                    p.setProperty("capture.source", "fanotify");
                    p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
                    p.setProperty("destination.d.url", daemon.url("backup"));
                    p.setProperty("destination.d.timeout-s", "10");
                    p.setProperty("exec.command-max-age-s", "10");
                    Path config = dir.resolve("agent-" + host.getKey() + ".properties");
                    try (OutputStream out = Files.newOutputStream(config)) {
                        p.store(out, null);
                    }
                    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-XX:TieredStopAtLevel=1", "-Xmx192m", "-cp", System.getProperty("java.class.path"),
                        Rtb.class.getName(), "agent", "--config", config.toString(), "--topic-prefix", prefix);
                    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            dir.resolve("agent-" + host.getKey() + ".log").toFile()));
                    pb.environment().put("RSYNC_PASSWORD_D", daemon.password().orElseThrow());
                    Process a = pb.start();
                    agents.add(a);
                    if (host.getKey().equals(STOPPED)) stoppedAgent = a;
                }
                for (String h : ROOTS.keySet()) {
                    Path log = dir.resolve("agent-" + h + ".log");
                    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(log)
                        && Files.readString(log, StandardCharsets.ISO_8859_1).contains("agent up"));
                }

                // Every 100 ms each root gets one of 20 small files rewritten.
                AtomicBoolean writing = new AtomicBoolean(true);
                AtomicReference<Throwable> writerFailure = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    Random rnd = new Random(15);
                    byte[] data = new byte[2048];
                    try {
                        while (writing.get()) {
                            for (Path src : sources.values()) {
                                rnd.nextBytes(data);
                                Files.write(src.resolve("f" + rnd.nextInt(20)), data);
                            }
                            Thread.sleep(100);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (IOException | RuntimeException e) {
                        writerFailure.set(e);
                    }
                }, "hostiso-writer");
                writer.start();

                Thread.sleep(10_000); // warm-up: JIT, first full syncs
                long beforeFrom = System.nanoTime();
                Thread.sleep(BEFORE.toMillis());
                long stopAt = System.nanoTime();
                signal(stoppedAgent, "STOP");
                Set<String> quarantined = new HashSet<>();
                Set<String> breakerStates = new HashSet<>();
                try {
                    long end = stopAt + STOP.toNanos();
                    while (System.nanoTime() < end) {
                        PipelineStatus s = worker.status().get("d");
                        s.quarantinedHosts().forEach(q -> quarantined.add(q.host()));
                        breakerStates.add(s.breakerState());
                        Thread.sleep(250);
                    }
                } finally {
                    signal(stoppedAgent, "CONT");
                }
                long resumeAt = System.nanoTime();
                Thread.sleep(5_000);
                writing.set(false);
                writer.join(10_000);
                assertThat(writerFailure.get()).isNull();

                List<Long> before = latencies(seen, beforeFrom, stopAt);
                List<Long> during = latencies(seen, stopAt, resumeAt);
                long p99Before = p99(before);
                long p99During = p99(during);
                System.out.printf("host isolation, real agents (SIGSTOP %d s): live hosts' batch latency p99 before"
                        + " %d ms (%d batches), during the stop %d ms (%d batches); ratio %.2f%n", STOP.toSeconds(),
                    p99Before, before.size(), p99During, during.size(), (double) p99During / p99Before);
                assertThat(during).as("the other hosts kept replicating").hasSizeGreaterThan(before.size() / 3);
                assertThat(p99During).as("live hosts' p99 during the stop vs before")
                    .isLessThanOrEqualTo(p99Before * 3 / 2);
                assertThat(quarantined).as("the stopped host, and only it, was quarantined").containsExactly(STOPPED);
                assertThat(breakerStates).as("the destination's breaker stayed CLOSED").containsExactly("CLOSED");

                // Nothing lost: every root of every host equals its replica, and the stopped host is no longer
                // quarantined.
                Path module = Path.of(new String(daemon.moduleDir("backup"), StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    for (Map.Entry<String, Path> e : sources.entrySet()) {
                        String[] hr = e.getKey().split(":");
                        Path replica = module.resolve(hr[0]).resolve(hr[1]);
                        if (!Files.isDirectory(replica)) throw new AssertionError("no replica of " + e.getKey());
                        TreeDiff.Result r = TreeDiff.defaults().withNanosecondMtime().compare(
                            BytePaths.utf8(e.getValue().toString()), BytePaths.utf8(replica.toString()));
                        if (!r.isEqual()) throw new AssertionError(e.getKey() + ": " + r.describe());
                    }
                });
                final Worker w = worker;
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(w.status().get("d").quarantinedHosts()).isEmpty());
            } finally {
                for (Process a : agents) {
                    a.destroy();
                    if (!a.waitFor(15, TimeUnit.SECONDS)) a.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                if (worker != null) worker.close();
                daemon.close();
            }
        }
    }

    private static void signal(Process p, String signal) throws IOException {
        if (p.isAlive()) {
            ExternalCommand.of("kill", "-" + signal, String.valueOf(p.pid())).timeout(Duration.ofSeconds(10)).run();
        }
    }

    /** Latencies (sorted) of the live hosts' OK batches reported in [fromNs, toNs). */
    private static List<Long> latencies(List<Seen> seen, long fromNs, long toNs) {
        List<Long> out = new ArrayList<>();
        for (Seen s : seen) {
            if (s.atNs() < fromNs || s.atNs() >= toNs) continue;
            if (!LIVE.contains(s.report().hostId()) || s.report().outcome() != SyncOutcome.OK) continue;
            if (s.report().latencyMs() >= 0) out.add(s.report().latencyMs());
        }
        out.sort(null);
        return out;
    }

    private static long p99(List<Long> sorted) {
        return sorted.isEmpty() ? -1 : sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
    }
}
