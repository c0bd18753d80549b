package io.rtbackup.worker;

import static io.rtbackup.worker.testing.Events.metric;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.pipeline.PipelineStatus;
import io.rtbackup.worker.testing.Events;
import io.rtbackup.worker.testing.TestAgent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15, item 5: one bad host must not hold a destination back for the others. A worker against a real broker
 * serves one destination for three hosts, each with its own simulated agent ({@link TestAgent}: answers its host's
 * commands after a short "rsync", and like the real agent answers FAILED "command expired" (exit -1) for commands
 * older than {@link #AGENT_MAX_AGE}). One host has four roots, as many as the destination's slots
 * ({@code bulkhead.max-concurrent=4}); its agent is suspended (as by SIGSTOP, and its host publishes nothing
 * meanwhile) and resumed later. The other two hosts' batch latency p99 during the stop must stay within 1.5 times the
 * p99 before it; after the resume the stopped host's changes all arrive, nothing lost.
 *
 * <p>The stop lasts {@code -Dhostiso.stop-s} seconds (default 25: over eight result timeouts of 3 s, and longer
 * than the breaker's open wait, the retry and host backoffs and the agent's max command age together); by hand,
 * {@code -Dhostiso.stop-s=120} is the two minutes of the issue.
 */
@ExtendWith(KafkaBrokerExtension.class)
class HostIsolationTest {
    private static final Duration STOP = Duration.ofSeconds(Long.getLong("hostiso.stop-s", 25));
    private static final Duration BEFORE = Duration.ofSeconds(Long.getLong("hostiso.before-s", 20));
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    private static final Duration AGENT_MAX_AGE = Duration.ofSeconds(10);
    private static final long SIMULATED_RSYNC_MS = 15;
    private static final List<String> LIVE = List.of("live-a", "live-b");
    private static final String STOPPED = "stopped";
    private static final List<String> STOPPED_ROOTS = List.of("r1", "r2", "r3", "r4");

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    private Events events;

    /** A finished batch as the listener saw it, and when. */
    private record Seen(long atNs, SyncReport report) {
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
        if (events != null) events.close();
    }

    private static Optional<SyncResult> agentAnswer(SyncCommand c) {
        long ageMs = System.currentTimeMillis() - c.getIssuedAtMs();
        if (ageMs > AGENT_MAX_AGE.toMillis()) {
            SyncResult r = TestAgent.result(c, SyncOutcome.FAILED, "command expired: issued " + ageMs / 1000
                + " s ago, more than command.max-age-s=" + AGENT_MAX_AGE.toSeconds() + "; reissue it");
            r.setExitCode(-1);
            return Optional.of(r);
        }
        try {
            Thread.sleep(SIMULATED_RSYNC_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return TestAgent.allOk(c);
    }

    @Test
    void aStoppedHostDoesNotSlowTheOthersAndCatchesUpAfterwards(KafkaBroker broker) throws Exception {
        events = new Events(broker.bootstrapServers());
        String dest = Events.uniqueDestination("iso");
        List<Seen> seen = new CopyOnWriteArrayList<>();
        PrometheusRegistry registry = new PrometheusRegistry();
        Properties p = new Properties();
        p.setProperty("worker.id", "w-iso");
        p.setProperty("destination." + dest + ".routes", "*:*");
        p.setProperty("coalesce.debounce-ms", "50");
        p.setProperty("coalesce.max-delay-ms", "500");
        p.setProperty("commit.interval-ms", "100");
        p.setProperty("retry.initial-backoff-ms", "100");
        p.setProperty("retry.max-backoff-ms", "1000");
        p.setProperty("breaker.open-wait-ms", "2000");
        p.setProperty("bulkhead.max-concurrent", "4");
        p.setProperty("result.timeout-ms", "3000");
        Worker worker = new Worker(WorkerConfig.fromProperties(p), events.topics, events.bootstrap, registry,
            r -> seen.add(new Seen(System.nanoTime(), r)), fatal);
        closeables.add(worker);
        closeables.add(fatal::assertNone);
        worker.start();
        assertThat(worker.awaitReady(Duration.ofSeconds(60))).isTrue();

        List<String> hosts = new ArrayList<>(LIVE);
        hosts.add(STOPPED);
        TestAgent stoppedAgent = null;
        for (String h : hosts) {
            TestAgent a = new TestAgent(events.bootstrap, events.topics, c -> c.getHostId().equals(h),
                HostIsolationTest::agentAnswer);
            closeables.add(a);
            if (h.equals(STOPPED)) stoppedAgent = a;
        }

        // Every 50 ms each root of each host changes one of 20 files. The stopped host's changes during the stop
        // are published when it resumes (as a stopped agent's captured changes are).
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicBoolean stoppedHostPaused = new AtomicBoolean(false);
        Set<String> stoppedHostPaths = ConcurrentHashMap.newKeySet();
        List<String> heldBack = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            Random rnd = new Random(15);
            try {
                while (writing.get()) {
                    for (String h : LIVE) events.eventAsync(h, "data", "f" + rnd.nextInt(20), FileOp.MODIFY);
                    for (String root : STOPPED_ROOTS) {
                        String path = "f" + rnd.nextInt(20);
                        stoppedHostPaths.add(root + ":" + path);
                        if (stoppedHostPaused.get()) heldBack.add(root + ":" + path);
                        else events.eventAsync(STOPPED, root, path, FileOp.MODIFY);
                    }
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                writerFailure.set(e);
            }
        }, "hostiso-writer");
        writer.start();

        Thread.sleep(WARM_UP.toMillis());
        long beforeFrom = System.nanoTime();
        Thread.sleep(BEFORE.toMillis());
        long stopAt = System.nanoTime();
        stoppedHostPaused.set(true);
        stoppedAgent.suspend();
        Set<String> quarantinedSeen = new HashSet<>();
        Set<String> breakerStates = new HashSet<>();
        double gaugeSeen = 0;
        long stopEnd = stopAt + STOP.toNanos();
        while (System.nanoTime() < stopEnd) {
            PipelineStatus s = worker.status().get(dest);
            s.quarantinedHosts().forEach(q -> quarantinedSeen.add(q.host()));
            breakerStates.add(s.breakerState());
            gaugeSeen = Math.max(gaugeSeen, metric(registry, "rtb_worker_host_quarantined", "destination", dest, "host", STOPPED));
            Thread.sleep(250);
        }
        long resumeAt = System.nanoTime();
        stoppedAgent.resume();
        stoppedHostPaused.set(false);
        for (String held : heldBack) {
            String[] rp = held.split(":");
            events.eventAsync(STOPPED, rp[0], rp[1], FileOp.MODIFY);
        }
        Thread.sleep(5_000);
        writing.set(false);
        writer.join(10_000);
        events.flush();
        assertThat(writerFailure.get()).isNull();

        List<Long> before = latencies(seen, beforeFrom, stopAt);
        List<Long> during = latencies(seen, stopAt, resumeAt);
        long p99Before = p99(before);
        long p99During = p99(during);
        System.out.printf("host isolation (stop %d s): live hosts' batch latency p99 before %d ms (%d batches, max %d),"
                + " during the stop %d ms (%d batches, max %d); ratio %.2f%n", STOP.toSeconds(), p99Before,
            before.size(), before.get(before.size() - 1), p99During, during.size(), during.get(during.size() - 1),
            (double) p99During / p99Before);
        assertThat(before).hasSizeGreaterThan(100);
        assertThat(during).as("the other hosts kept replicating").hasSizeGreaterThan(100);
        assertThat(p99During).as("live hosts' p99 during the stop vs before").isLessThanOrEqualTo(p99Before * 3 / 2);
        assertThat(quarantinedSeen).as("the stopped host, and only it, was quarantined").containsExactly(STOPPED);
        assertThat(gaugeSeen).isEqualTo(1.0);
        assertThat(breakerStates).as("the destination's breaker never left CLOSED").containsExactly("CLOSED");

        // Caught up: every event is durable (the group committed the log end), none went to the DLQ, every path
        // of the stopped host was synced after the resume, and its quarantine is over.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(events.uncommitted(dest)).isZero();
            assertThat(worker.status().get(dest).quarantinedHosts()).isEmpty();
        });
        assertThat(events.deadLetters()).isEmpty();
        Set<String> syncedAfterResume = new HashSet<>();
        for (Seen s : seen) {
            SyncReport r = s.report();
            if (s.atNs() < resumeAt || !r.hostId().equals(STOPPED) || r.outcome() != SyncOutcome.OK) continue;
            for (String path : r.samplePaths()) syncedAfterResume.add(r.rootId() + ":" + path);
        }
        List<String> okAfterResume = stoppedAgent.okPaths();
        Set<String> okPaths = new HashSet<>();
        for (String s : okAfterResume) okPaths.add(s.substring(STOPPED.length() + 1));
        assertThat(okPaths).as("every path the stopped host changed was synced").containsAll(stoppedHostPaths);
        assertThat(syncedAfterResume).as("the stopped host caught up after the resume").isNotEmpty();
        assertThat(metric(registry, "rtb_worker_host_quarantined", "destination", dest, "host", STOPPED)).isEqualTo(0.0);
    }

    /** Latencies (sorted) of the live hosts' OK batches reported in [fromNs, toNs). */
    private static List<Long> latencies(List<Seen> seen, long fromNs, long toNs) {
        List<Long> out = new ArrayList<>();
        for (Seen s : seen) {
            if (s.atNs() < fromNs || s.atNs() >= toNs) continue;
            if (!LIVE.contains(s.report().hostId()) || s.report().outcome() != SyncOutcome.OK) continue;
            out.add(s.report().latencyMs());
        }
        out.sort(null);
        return out;
    }

    private static long p99(List<Long> sorted) {
        if (sorted.isEmpty()) return -1;
        return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
    }
}
