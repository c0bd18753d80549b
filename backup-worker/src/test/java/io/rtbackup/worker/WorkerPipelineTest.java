package io.rtbackup.worker;

import static io.rtbackup.worker.testing.Events.header;
import static io.rtbackup.worker.testing.Events.metric;
import static io.rtbackup.worker.testing.Events.paths;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.pipeline.PipelineStatus;
import io.rtbackup.worker.testing.Events;
import io.rtbackup.worker.testing.TestAgent;
import io.rtbackup.worker.transport.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The worker as one unit against a real broker; the agent side is {@link TestAgent}, which answers commands on the
 * results topic without running rsync (the end-to-end test with the real agent and rsync lives elsewhere).
 */
@ExtendWith(KafkaBrokerExtension.class)
class WorkerPipelineTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Events events;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final AvroCodec<SyncCommand> commandCodec = AvroCodec.syncCommands();
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @BeforeEach
    void setUp(KafkaBroker broker) {
        events = new Events(broker.bootstrapServers());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
        if (events != null) events.close();
        fatal.assertNone();
    }

    private Properties props(String workerId, String... destinations) {
        Properties p = new Properties();
        p.setProperty("worker.id", workerId);
        for (String d : destinations) p.setProperty("destination." + d + ".routes", "*:*");
        p.setProperty("coalesce.debounce-ms", "50");
        p.setProperty("coalesce.max-delay-ms", "500");
        p.setProperty("commit.interval-ms", "100");
        p.setProperty("retry.initial-backoff-ms", "100");
        p.setProperty("retry.max-backoff-ms", "1000");
        p.setProperty("retry.max-attempts", "3");
        p.setProperty("breaker.minimum-calls", "10");
        p.setProperty("breaker.sliding-window", "10");
        p.setProperty("result.timeout-ms", "15000");
        return p;
    }

    private TestAgent agent(java.util.function.Function<SyncCommand, Optional<io.rtbackup.schema.SyncResult>> policy) {
        TestAgent a = new TestAgent(events.bootstrap, events.topics, policy);
        closeables.add(a);
        return a;
    }

    private Worker start(Properties p, PrometheusRegistry registry) throws InterruptedException {
        Worker w = new Worker(WorkerConfig.fromProperties(p), events.topics, events.bootstrap, registry, fatal);
        closeables.add(w);
        w.start();
        assertThat(w.awaitReady(WAIT)).as("worker joined its groups").isTrue();
        return w;
    }

    private static List<SyncCommand> withPath(List<SyncCommand> cmds, String path) {
        return cmds.stream().filter(c -> paths(c.getPaths()).contains(path)).toList();
    }

    @Test
    void issuesCoalescedCommandsAndCommitsOnlyAfterOk() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::manual);
        PrometheusRegistry registry = new PrometheusRegistry();
        Properties p = props("w1", dest);
        // Path-level rules: room for a second command of the root (the default runs one at a time).
        p.setProperty("coalesce.max-in-flight-per-root", "2");
        Worker worker = start(p, registry);

        RecordMetadata first = events.event("h1", "data", "a", FileOp.MODIFY);
        SyncCommand c1 = agent.nextUnanswered(WAIT);
        assertThat(paths(c1.getPaths())).containsExactly("a");
        assertThat(c1.getHostId()).isEqualTo("h1");
        assertThat(c1.getRootId()).isEqualTo("data");
        assertThat(c1.getDestination()).isEqualTo(dest);
        assertThat(c1.getReplyTo()).isEqualTo(worker.workerId());
        assertThat(c1.getRemotePrefix()).isEqualTo("h1/data/");
        assertThat(c1.getFullSync()).isFalse();
        assertThat(c1.getAttempt()).isEqualTo(1);
        assertThat(c1.getOldestEventTimeNs()).isNotNull();
        assertThat(c1.getCovers()).singleElement().satisfies(r -> {
            assertThat(r.getPartition()).isEqualTo(first.partition());
            assertThat(r.getFromOffset()).isEqualTo(first.offset());
            assertThat(r.getToOffset()).isEqualTo(first.offset());
        });

        // Five more changes of 'a' while it is in flight, then one of the idle path 'b'.
        for (int i = 0; i < 5; i++) events.event("h1", "data", "a", FileOp.MODIFY);
        events.event("h1", "data", "b", FileOp.CLOSE_WRITE);
        SyncCommand c2 = agent.nextUnanswered(WAIT);
        assertThat(paths(c2.getPaths())).as("an idle path goes out at once").containsExactly("b");
        Thread.sleep(400);
        assertThat(agent.hasUnanswered()).as("'a' is not issued again while in flight").isFalse();
        assertThat(events.uncommitted(dest)).as("nothing committed before an OK").isEqualTo(7);

        agent.respond(c2, SyncOutcome.OK, null);
        Thread.sleep(400);
        assertThat(events.uncommitted(dest)).as("b is done, but the older 'a' event still holds the watermark")
            .isEqualTo(7);

        agent.respond(c1, SyncOutcome.OK, null);
        SyncCommand c3 = agent.nextUnanswered(WAIT);
        assertThat(paths(c3.getPaths())).as("the merged pending change of 'a'").containsExactly("a");
        assertThat(c3.getCovers().stream().mapToLong(r -> r.getToOffset() - r.getFromOffset() + 1).sum()).isEqualTo(5);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest))
            .as("the five merged events of 'a' hold the watermark").isEqualTo(6));

        agent.respond(c3, SyncOutcome.OK, null);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        assertThat(agent.received()).hasSize(3);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(metric(registry, "rtb_worker_commands_issued_total", "destination", dest)).isEqualTo(3);
            assertThat(metric(registry, "rtb_worker_command_results_total", "destination", dest, "outcome", "ok")).isEqualTo(3);
            assertThat(metric(registry, "rtb_worker_events_synced_total", "destination", dest)).isEqualTo(7);
            assertThat(metric(registry, "rtb_worker_paths_synced_total", "destination", dest)).isEqualTo(3);
            assertThat(metric(registry, "rtb_worker_bytes_sent_total", "destination", dest)).isEqualTo(3000);
            assertThat(metric(registry, "rtb_worker_lag_events", "destination", dest)).isZero();
        });
    }

    @Test
    void pathsReachCommandsByteExactAndAChangeToTheRootItselfIsAFullSync() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::allOk);
        start(props("w1", dest), new PrometheusRegistry());

        byte[] hostile = {'d', (byte) 0xff, (byte) 0xfe, '/', 'x', '\n', 'y'};
        events.event("h1", "data", hostile, FileOp.MODIFY, false);
        events.event("h1", "data", new byte[0], FileOp.ATTRIB, true);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        List<byte[]> listed = new ArrayList<>();
        for (SyncCommand c : agent.received()) {
            c.getPaths().forEach(b -> {
                byte[] a = new byte[b.remaining()];
                b.duplicate().get(a);
                listed.add(a);
            });
        }
        assertThat(listed).anySatisfy(a -> assertThat(a).isEqualTo(hostile));
        assertThat(listed).hasSize(1);
        assertThat(agent.received()).anySatisfy(c -> assertThat(c.getFullSync()).isTrue());
    }

    @Test
    void failedResultIsRetriedWithBackoff() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(c -> Optional.of(TestAgent.result(c,
            c.getAttempt() < 3 ? SyncOutcome.FAILED : SyncOutcome.OK, c.getAttempt() < 3 ? "connection refused" : null)));
        PrometheusRegistry registry = new PrometheusRegistry();
        start(props("w1", dest), registry);

        events.event("h1", "data", "x", FileOp.CLOSE_WRITE);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        List<SyncCommand> cmds = withPath(agent.received(), "x");
        assertThat(cmds).extracting(SyncCommand::getAttempt).containsExactly(1, 2, 3);
        assertThat(cmds).extracting(SyncCommand::getCommandId).doesNotHaveDuplicates();
        // Exponential backoff: at least 100 ms, then at least 200 ms between attempts.
        assertThat(cmds.get(1).getIssuedAtMs() - cmds.get(0).getIssuedAtMs()).isGreaterThanOrEqualTo(100);
        assertThat(cmds.get(2).getIssuedAtMs() - cmds.get(1).getIssuedAtMs()).isGreaterThanOrEqualTo(200);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(metric(registry, "rtb_worker_command_retries_total", "destination", dest)).isEqualTo(2);
            assertThat(metric(registry, "rtb_worker_command_results_total", "destination", dest, "outcome", "failed")).isEqualTo(2);
        });
    }

    /**
     * While the breaker is open nothing but its probes goes out, but the consumer reads on (up to
     * coalesce.max-pending-paths): the outage's backlog coalesces in memory, and each probe carries it. The probe
     * that finds the destination back brings it up to date alone. Issue #18: the consumer used to pause while the
     * breaker was open and the probe carried one batch, so a returning destination got the probe, then what was
     * pending when it went down, then the backlog read after the probe, each a command after the other (fan-out
     * bench: 1 path, 70 paths, then 229).
     */
    @Test
    void anOpenBreakerSendsOnlyProbesAndTheProbeThatFindsTheDestinationBackCarriesTheBacklog() throws Exception {
        String dest = Events.uniqueDestination("nas");
        AtomicBoolean up = new AtomicBoolean(false);
        TestAgent agent = agent(c -> Optional.of(up.get()
            ? TestAgent.result(c, SyncOutcome.OK, null)
            : TestAgent.result(c, SyncOutcome.FAILED, "rsync: failed to connect to 127.0.0.1: Connection refused")));
        Properties p = props("w1", dest);
        p.setProperty("breaker.minimum-calls", "2");
        p.setProperty("breaker.sliding-window", "2");
        p.setProperty("breaker.failure-rate-threshold", "50");
        p.setProperty("breaker.open-wait-ms", "1500");
        p.setProperty("retry.initial-backoff-ms", "300");
        p.setProperty("retry.max-backoff-ms", "300");
        p.setProperty("retry.max-attempts", "100");
        PrometheusRegistry registry = new PrometheusRegistry();
        Worker worker = start(p, registry);

        events.event("h1", "data", "p0", FileOp.CLOSE_WRITE);
        await().atMost(WAIT).until(() -> !withPath(agent.received(), "p0").isEmpty());
        // p1 waits behind p0, whose batch holds the root (one command per root) while it is retried
        events.event("h1", "data", "p1", FileOp.CLOSE_WRITE);
        await().atMost(WAIT).untilAsserted(() -> {
            PipelineStatus s = worker.status().get(dest);
            assertThat(s.breakerState()).isEqualTo("OPEN");
            assertThat(s.pendingPaths()).isEqualTo(1);
        });
        assertThat(metric(registry, "rtb_worker_breaker_state", "destination", dest)).isEqualTo(2);
        int before = agent.received().size();
        for (int i = 2; i <= 4; i++) events.event("h1", "data", "p" + i, FileOp.CLOSE_WRITE);
        Thread.sleep(3000);
        List<SyncCommand> duringOutage = List.copyOf(agent.received().subList(before, agent.received().size()));
        assertThat(duringOutage).as("no command spam while open: at most one probe per open wait")
            .hasSizeLessThanOrEqualTo(3);
        assertThat(duringOutage).as("only probes (retries of p0's batch) go out while open")
            .allSatisfy(c -> assertThat(paths(c.getPaths())).contains("p0"))
            .allSatisfy(c -> assertThat(c.getAttempt()).isGreaterThan(1));
        assertThat(duringOutage).as("the backlog is read meanwhile, and the probe carries it")
            .anySatisfy(c -> assertThat(paths(c.getPaths())).containsExactlyInAnyOrder("p0", "p1", "p2", "p3", "p4"));
        assertThat(events.uncommitted(dest)).isEqualTo(5);

        up.set(true);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(events.uncommitted(dest)).isZero();
            PipelineStatus s = worker.status().get(dest);
            assertThat(s.breakerState()).isEqualTo("CLOSED");
            assertThat(s.paused()).isFalse();
        });
        assertThat(agent.okPaths()).contains("h1:data:p0", "h1:data:p1", "h1:data:p2", "h1:data:p3", "h1:data:p4");
        assertThat(agent.sent()).filteredOn(r -> r.getOutcome() == SyncOutcome.OK)
            .as("one command brought the returning destination up to date: the probe that found it back").hasSize(1);
    }

    @Test
    void garbageAndInvalidEventsGoToTheDlqAndTheLoopContinues() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::allOk);
        PrometheusRegistry registry = new PrometheusRegistry();
        start(props("w1", dest), registry);

        byte[] junk = {1, 2, 3, 4, (byte) 0xff};
        RecordMetadata junkAt = events.raw("junk".getBytes(StandardCharsets.UTF_8), junk);
        events.event("h1", "data", "../../etc/passwd", FileOp.MODIFY);
        events.event("h1", "data", "good", FileOp.CLOSE_WRITE);

        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        assertThat(agent.okPaths()).containsExactly("h1:data:good");
        List<ConsumerRecord<byte[], byte[]>> dlq = events.deadLetters();
        assertThat(dlq).hasSize(2);
        ConsumerRecord<byte[], byte[]> garbage = dlq.stream()
            .filter(r -> DeadLetter.KIND_UNDECODABLE_EVENT.equals(header(r, DeadLetter.H_KIND))).findFirst().orElseThrow();
        assertThat(garbage.value()).isEqualTo(junk);
        assertThat(header(garbage, DeadLetter.H_REASON)).contains("cannot decode");
        assertThat(header(garbage, DeadLetter.H_SOURCE_TOPIC)).isEqualTo(events.topics.events());
        assertThat(header(garbage, DeadLetter.H_SOURCE_PARTITION)).isEqualTo(Integer.toString(junkAt.partition()));
        assertThat(header(garbage, DeadLetter.H_SOURCE_OFFSET)).isEqualTo(Long.toString(junkAt.offset()));
        assertThat(header(garbage, DeadLetter.H_DESTINATION)).isEqualTo(dest);
        ConsumerRecord<byte[], byte[]> invalid = dlq.stream()
            .filter(r -> DeadLetter.KIND_INVALID_EVENT.equals(header(r, DeadLetter.H_KIND))).findFirst().orElseThrow();
        assertThat(header(invalid, DeadLetter.H_REASON)).contains("'..'").contains("../../etc/passwd");
        assertThat(metric(registry, "rtb_worker_dlq_records_total", "destination", dest, "kind",
            DeadLetter.KIND_UNDECODABLE_EVENT)).isEqualTo(1);
        assertThat(metric(registry, "rtb_worker_dlq_records_total", "destination", dest, "kind",
            DeadLetter.KIND_INVALID_EVENT)).isEqualTo(1);
    }

    @Test
    void rejectedCommandGoesToTheDlqWithoutRetry() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(c -> Optional.of(c.getRootId().equals("secret")
            ? TestAgent.result(c, SyncOutcome.REJECTED, "unknown root 'secret'")
            : TestAgent.result(c, SyncOutcome.OK, null)));
        PrometheusRegistry registry = new PrometheusRegistry();
        start(props("w1", dest), registry);

        events.event("h1", "secret", "k", FileOp.MODIFY);
        events.event("h1", "data", "fine", FileOp.MODIFY);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(events.uncommitted(dest)).isZero();
            assertThat(events.deadLetters()).hasSize(1);
        });
        assertThat(agent.received().stream().filter(c -> c.getRootId().equals("secret"))).hasSize(1);
        ConsumerRecord<byte[], byte[]> r = events.deadLetters().get(0);
        assertThat(header(r, DeadLetter.H_KIND)).isEqualTo(DeadLetter.KIND_REJECTED_COMMAND);
        assertThat(header(r, DeadLetter.H_REASON)).contains("unknown root 'secret'");
        SyncCommand dead = commandCodec.decode(r.value());
        assertThat(dead.getRootId()).isEqualTo("secret");
        assertThat(paths(dead.getPaths())).containsExactly("k");
        assertThat(header(r, DeadLetter.H_COMMAND_ID)).isEqualTo(dead.getCommandId());
        assertThat(agent.okPaths()).containsExactly("h1:data:fine");
        assertThat(metric(registry, "rtb_worker_command_results_total", "destination", dest, "outcome", "rejected"))
            .isEqualTo(1);
    }

    @Test
    void partialCommandGoesToTheDlqAfterItsRetriesAndThePipelineMovesOn() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(c -> Optional.of(c.getRootId().equals("broken")
            ? TestAgent.result(c, SyncOutcome.PARTIAL, "rsync exit 23: send_files failed to open \"f\": Permission denied")
            : TestAgent.result(c, SyncOutcome.OK, null)));
        start(props("w1", dest), new PrometheusRegistry());

        events.event("h1", "broken", "f", FileOp.MODIFY);
        events.event("h1", "data", "g", FileOp.MODIFY);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(events.uncommitted(dest)).isZero();
            assertThat(events.deadLetters()).hasSize(1);
        });
        assertThat(agent.received().stream().filter(c -> c.getRootId().equals("broken")))
            .extracting(SyncCommand::getAttempt).containsExactly(1, 2, 3);
        ConsumerRecord<byte[], byte[]> r = events.deadLetters().get(0);
        assertThat(header(r, DeadLetter.H_KIND)).isEqualTo(DeadLetter.KIND_PARTIAL_COMMAND);
        assertThat(header(r, DeadLetter.H_REASON)).contains("Permission denied").contains("3 attempt");
        assertThat(agent.okPaths()).containsExactly("h1:data:g");
    }

    @Test
    void workerRestartedMidwayReplaysAndCompletes() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::manual);
        Worker w1 = start(props("w1", dest), new PrometheusRegistry());

        for (int i = 0; i < 5; i++) events.event("h1", "ra", "a" + i, FileOp.CLOSE_WRITE);
        int raPaths = 0;
        while (raPaths < 5) {
            SyncCommand c = agent.nextUnanswered(WAIT);
            assertThat(c.getRootId()).isEqualTo("ra");
            raPaths += c.getPaths().size();
            agent.respond(c, SyncOutcome.OK, null);
        }
        RecordMetadata firstB = null;
        for (int i = 0; i < 5; i++) {
            RecordMetadata m = events.event("h1", "rb", "b" + i, FileOp.CLOSE_WRITE);
            if (firstB == null) firstB = m;
        }
        TopicPartition tp = new TopicPartition(events.topics.events(), firstB.partition());
        SyncCommand rb = agent.nextUnanswered(WAIT); // left unanswered: the worker dies with it in flight
        assertThat(rb.getRootId()).isEqualTo("rb");
        long bAt = firstB.offset();
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.committed(dest).get(tp)).isEqualTo(bAt));

        w1.close(); // 'rb' commands are still in flight: their events are not committed
        assertThat(events.committed(dest).get(tp)).isEqualTo(bAt);

        agent.policy(TestAgent::allOk);
        start(props("w2", dest), new PrometheusRegistry());
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        List<String> ok = agent.okPaths();
        for (int i = 0; i < 5; i++) {
            assertThat(ok).contains("h1:rb:b" + i);
            assertThat(ok.stream().filter(("h1:ra:a" + i)::equals)).as("committed work is not redone").hasSize(1);
        }
        assertThat(agent.received().stream().filter(c -> c.getReplyTo().equals("w2") && c.getRootId().equals("ra")))
            .isEmpty();
    }

    @Test
    void backlogCoalescesIntoOneEntryPerPath() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::allOk);
        // A first run positions the group (commits the empty partitions), as a destination that was up before.
        start(props("w1", dest), new PrometheusRegistry()).close();
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < 200; i++) events.event("h" + (i % 4), "data", "dir/file" + i, FileOp.MODIFY);
        }
        List<SyncReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        Worker w = new Worker(WorkerConfig.fromProperties(props("w2", dest)), events.topics, events.bootstrap,
            new PrometheusRegistry(), reports::add, fatal);
        closeables.add(w);
        w.start();
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        List<String> ok = agent.okPaths();
        assertThat(ok).hasSize(200).doesNotHaveDuplicates();
        assertThat(agent.received()).noneSatisfy(c -> assertThat(c.getFullSync()).isTrue());
        assertThat(reports).allSatisfy(r -> {
            assertThat(r.outcome()).isEqualTo(SyncOutcome.OK);
            assertThat(r.destination()).isEqualTo(dest);
            assertThat(r.samplePaths()).isNotEmpty().allSatisfy(p -> assertThat(p).startsWith("dir/file"));
            assertThat(r.latencyMs()).isGreaterThanOrEqualTo(0);
        });
        assertThat(reports.stream().mapToInt(SyncReport::events).sum()).isEqualTo(2000);
        assertThat(reports.stream().mapToInt(SyncReport::paths).sum()).isEqualTo(200);
    }

    @Test
    void offsetResetBecomesFullRootSyncs() throws Exception {
        String dest = Events.uniqueDestination("nas");
        TestAgent agent = agent(TestAgent::allOk);
        // Events before the destination's group exists: no committed offset while the log has data.
        events.event("h1", "r1", "x", FileOp.MODIFY);
        events.event("h1", "r1", "y", FileOp.MODIFY);
        RecordMetadata h2 = events.event("h2", "r2", "z", FileOp.MODIFY);
        PrometheusRegistry registry = new PrometheusRegistry();
        Worker w1 = start(props("w1", dest), registry);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        assertThat(agent.received()).allSatisfy(c -> {
            assertThat(c.getFullSync()).isTrue();
            assertThat(c.getPaths()).isEmpty();
        });
        assertThat(agent.received()).extracting(c -> c.getHostId() + ":" + c.getRootId())
            .containsExactlyInAnyOrder("h1:r1", "h2:r2");
        assertThat(metric(registry, "rtb_worker_offset_resets_total", "destination", dest)).isGreaterThanOrEqualTo(1);
        w1.close();

        // Committed offset falls out of the log: records deleted (as retention would) past it.
        RecordMetadata lost = events.event("h2", "r2", "lost", FileOp.MODIFY);
        assertThat(lost.partition()).isEqualTo(h2.partition());
        TopicPartition tp = new TopicPartition(events.topics.events(), lost.partition());
        events.deleteRecords(tp, lost.offset() + 1);
        events.event("h2", "r2", "after", FileOp.MODIFY);
        int before = agent.received().size();
        start(props("w2", dest), new PrometheusRegistry());
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        List<SyncCommand> after = agent.received().subList(before, agent.received().size());
        assertThat(after).singleElement().satisfies(c -> {
            assertThat(c.getFullSync()).isTrue();
            assertThat(c.getHostId() + ":" + c.getRootId()).isEqualTo("h2:r2");
        });
    }

    @Test
    void aFailingDestinationDoesNotHoldBackAnother() throws Exception {
        String down = Events.uniqueDestination("down");
        String ok = Events.uniqueDestination("ok");
        TestAgent agent = agent(c -> Optional.of(c.getDestination().equals(down)
            ? TestAgent.result(c, SyncOutcome.FAILED, "connection refused")
            : TestAgent.result(c, SyncOutcome.OK, null)));
        Properties p = props("w1", down, ok);
        p.setProperty("breaker.minimum-calls", "2");
        p.setProperty("breaker.sliding-window", "2");
        p.setProperty("breaker.open-wait-ms", "60000");
        p.setProperty("retry.initial-backoff-ms", "20");
        p.setProperty("retry.max-attempts", "100");
        Worker worker = start(p, new PrometheusRegistry());
        for (int i = 0; i < 20; i++) events.event("h" + (i % 3), "data", "f" + i, FileOp.MODIFY);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(events.uncommitted(ok)).isZero();
            assertThat(worker.status().get(down).breakerState()).isEqualTo("OPEN");
        });
        assertThat(events.uncommitted(down)).isEqualTo(20);
        Map<String, PipelineStatus> status = worker.status();
        assertThat(status.get(ok).breakerState()).isEqualTo("CLOSED");
        assertThat(agent.okPaths()).hasSize(20);
    }

    @Test
    void aPipelineThreadThatDiesEndsTheProcessInsteadOfLeavingAHalfDeadWorker() throws Exception {
        String dest = Events.uniqueDestination("dies");
        agent(TestAgent::allOk);
        RecordingFatalErrorHandler mine = new RecordingFatalErrorHandler();
        // an Error thrown on the pipeline thread, like an OutOfMemoryError would be
        Worker w = new Worker(WorkerConfig.fromProperties(props("w-dies", dest)), events.topics, events.bootstrap,
            new PrometheusRegistry(), report -> {
                throw new Error("simulated failure on the pipeline thread");
            }, mine);
        closeables.add(w);
        w.start();
        assertThat(w.awaitReady(WAIT)).isTrue();

        events.event("h1", "data", "a", FileOp.MODIFY);

        await().atMost(WAIT).until(() -> !mine.reports().isEmpty());
        assertThat(mine.reports()).singleElement().satisfies(r -> {
            assertThat(r.component()).isEqualTo("worker w-dies: pipeline of destination " + dest);
            assertThat(r.cause()).hasMessage("simulated failure on the pipeline thread");
        });
    }
}
