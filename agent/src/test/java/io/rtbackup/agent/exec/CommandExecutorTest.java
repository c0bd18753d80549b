package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unit test of the executor's own logic (concurrency bound, results on every path, commit watermark) with
 * Kafka's in-memory client doubles and a stand-in replicator. The real broker and real rsync are exercised in
 * {@link CommandExecutorBrokerTest}; expiry, signatures and replays in {@link CommandAdmissionTest}.
 */
class CommandExecutorTest {
    private static final String HOST = "h";
    private static final Topics TOPICS = new Topics("ev", "cmd", "res", "dlq", "status");
    private static final int PARTITIONS = 6;

    @TempDir
    Path tmp;
    private TopicPartition tp;
    private PacedMockConsumer consumer;
    private MockProducer<byte[], byte[]> producer;
    private CommandExecutor executor;
    private final AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
    private final AvroCodec<SyncResult> results = AvroCodec.syncResults();
    private long nextOffset;
    private final List<String> fatalErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** MockConsumer returns at once when empty; pace it like a real poll so the loop does not spin. */
    static final class PacedMockConsumer extends MockConsumer<byte[], byte[]> {
        PacedMockConsumer() {
            super("latest");
        }

        @Override
        public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            ConsumerRecords<byte[], byte[]> r = super.poll(timeout);
            if (r.isEmpty()) {
                try {
                    wait(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return r;
        }
    }

    /** Stands in for rsync: runs a function per job, counting how many run at once per destination. */
    static final class FakeReplicator implements Replicator {
        final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> maxRunning = new ConcurrentHashMap<>();
        final Function<ReplicationJob, ReplicationReport> body;

        FakeReplicator(Function<ReplicationJob, ReplicationReport> body) {
            this.body = body;
        }

        @Override
        public ReplicationReport replicate(ReplicationJob job) {
            String d = job.destination().name();
            int now = running.computeIfAbsent(d, k -> new AtomicInteger()).incrementAndGet();
            maxRunning.computeIfAbsent(d, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
            try {
                return body.apply(job);
            } finally {
                running.get(d).decrementAndGet();
            }
        }

        @Override
        public void close() {
        }
    }

    static ReplicationReport ok() {
        return new ReplicationReport(SyncOutcome.OK, 0, new RsyncStats(1, 0, 100, 10, 0), Duration.ofMillis(3),
            Optional.empty());
    }

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(tmp.resolve("root"));
        Files.writeString(tmp.resolve("root/f"), "x");
        tp = new TopicPartition("cmd", CommandExecutor.partitionFor(HOST, PARTITIONS));
        consumer = new PacedMockConsumer();
        List<PartitionInfo> infos = new java.util.ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) infos.add(new PartitionInfo("cmd", i, Node.noNode(), null, null));
        consumer.updatePartitions("cmd", infos);
        consumer.updateEndOffsets(Map.of(tp, 0L));
        producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void tearDown() {
        if (executor != null) executor.close();
    }

    private void start(Replicator replicator, String... extraProps) throws Exception {
        start(replicator, Clock.systemUTC(), extraProps);
    }

    private void start(Replicator replicator, Clock clock, String... extraProps) throws Exception {
        Properties p = new Properties();
        p.setProperty("destination.slow.url", tmp.resolve("slow").toString());
        p.setProperty("destination.slow.max-concurrent", "2");
        p.setProperty("destination.fast.url", tmp.resolve("fast").toString());
        for (int i = 0; i < extraProps.length; i += 2) p.setProperty(extraProps[i], extraProps[i + 1]);
        ExecConfig config = ExecConfig.from(p, Map.of());
        CommandValidator validator = new CommandValidator(HOST,
            Map.of("r", tmp.resolve("root").toString().getBytes(StandardCharsets.US_ASCII)), config.destinations());
        executor = new CommandExecutor(ExecutorParts.of(HOST, TOPICS, config, consumer, producer, validator,
            replicator, new PrometheusRegistry(), (component, e) -> fatalErrors.add(component + ": " + e))
            .withClock(clock)).start();
        assertThat(executor.awaitReady(Duration.ofSeconds(10))).isTrue();
    }

    private long send(SyncCommand c) {
        long offset = nextOffset++;
        consumer.addRecord(new ConsumerRecord<>("cmd", tp.partition(), offset, HOST.getBytes(StandardCharsets.UTF_8),
            commands.encode(c)));
        return offset;
    }

    private Map<String, SyncResult> published() {
        Map<String, SyncResult> out = new ConcurrentHashMap<>();
        for (ProducerRecord<byte[], byte[]> r : producer.history()) {
            SyncResult res = results.decode(r.value());
            out.put(res.getCommandId(), res);
        }
        return out;
    }

    private long committed() {
        OffsetAndMetadata o = consumer.committed(Set.of(tp)).get(tp);
        return o == null ? -1 : o.offset();
    }

    @Test
    void concurrencyPerDestinationIsBounded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeReplicator fake = new FakeReplicator(job -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ok();
        });
        start(fake);
        for (int i = 0; i < 6; i++) send(Commands.paths(HOST, "r", "slow", b("f")));
        await().atMost(Duration.ofSeconds(10)).until(() -> fake.running.getOrDefault("slow", new AtomicInteger())
            .get() == 2);
        Thread.sleep(200); // the other four must stay queued
        assertThat(fake.running.get("slow").get()).isEqualTo(2);
        assertThat(published()).isEmpty();
        assertThat(committed()).as("nothing finished, nothing committed").isEqualTo(0);

        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 6);
        assertThat(fake.maxRunning.get("slow").get()).isEqualTo(2);
        assertThat(published().values()).allSatisfy(r -> assertThat(r.getOutcome()).isEqualTo(SyncOutcome.OK));
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == 6);
    }

    /** A clock that moves only when told to. */
    static final class ManualClock extends Clock {
        private volatile Instant now = Instant.parse("2026-12-07T12:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    void progressIsCommittedAtMostOncePerIntervalAndCaughtUpAfterIt() throws Exception {
        ManualClock clock = new ManualClock();
        start(new FakeReplicator(job -> ok()), clock);
        long first = send(Commands.paths(HOST, "r", "fast", b("f")));
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == first + 1);

        long second = send(Commands.paths(HOST, "r", "fast", b("f")));
        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        Thread.sleep(300); // a few poll rounds
        assertThat(committed()).as("no second commit within %s of the first", CommandExecutor.COMMIT_EVERY)
            .isEqualTo(first + 1);

        clock.advance(CommandExecutor.COMMIT_EVERY);
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == second + 1);
    }

    @Test
    void aSlowDestinationHoldsTheCommitButNotTheOtherDestination() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        start(new FakeReplicator(job -> {
            if (job.destination().name().equals("slow")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return ok();
        }));
        SyncCommand slow = Commands.paths(HOST, "r", "slow", b("f"));
        send(slow);
        SyncCommand fast1 = Commands.paths(HOST, "r", "fast", b("f"));
        SyncCommand fast2 = Commands.paths(HOST, "r", "fast", b("f"));
        send(fast1);
        send(fast2);
        await().atMost(Duration.ofSeconds(10)).until(() -> published().keySet()
            .containsAll(List.of(fast1.getCommandId(), fast2.getCommandId())));
        Thread.sleep(300); // a few poll rounds
        assertThat(committed()).as("offset 0 (slow) is not done").isEqualTo(0);

        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> published().containsKey(slow.getCommandId()));
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == 3);
    }

    @Test
    void aResultIsPublishedOnEveryPath() throws Exception {
        start(new FakeReplicator(job -> {
            throw new IllegalStateException("replicator blew up");
        }), "exec.command-max-age-s", "60");
        SyncCommand crashes = Commands.paths(HOST, "r", "fast", b("f"));
        SyncCommand rejected = Commands.paths(HOST, "r", "fast", b("../x"));
        consumer.addRecord(new ConsumerRecord<>("cmd", tp.partition(), nextOffset++,
            HOST.getBytes(StandardCharsets.UTF_8), b("garbage")));
        send(crashes);
        send(rejected);

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        Map<String, SyncResult> got = published();
        assertThat(got.get(crashes.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(got.get(crashes.getCommandId()).getError()).contains("replicator blew up");
        assertThat(got.get(rejected.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.REJECTED);
        assertThat(producer.history()).allSatisfy(r -> assertThat(r.key()).isEqualTo(b("test-worker")));
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == 3);
    }

    @Test
    void anUnexpectedErrorInThePollLoopEndsTheProcessInsteadOfLeavingTheAgentWithoutAnExecutor() throws Exception {
        start(new FakeReplicator(job -> ok()));
        consumer.schedulePollTask(() -> {
            throw new IllegalStateException("bug in the poll loop");
        });

        await().atMost(Duration.ofSeconds(10)).until(() -> !fatalErrors.isEmpty());
        assertThat(fatalErrors).singleElement().asString()
            .contains("command executor of host " + HOST).contains("bug in the poll loop");
    }

    @Test
    void aResultTheProducerCanNeverSendEndsTheProcessWhileATimeoutIsTriedAgainUntilTheProducerTakesIt()
            throws Exception {
        start(new FakeReplicator(job -> ok()));
        // the shared producer's 2 s block ran out without metadata (a broker restarting): the result waits for it
        synchronized (producer) {
            producer.sendException = new org.apache.kafka.common.errors.TimeoutException("no metadata after 2000 ms");
        }
        long first = send(Commands.paths(HOST, "r", "fast", b("f")));
        Thread.sleep(1_500);
        assertThat(committed()).as("held back while its result waits for the producer").isLessThanOrEqualTo(first);
        assertThat(producer.history()).isEmpty();
        synchronized (producer) {
            producer.sendException = null;
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> committed() == first + 1);
        assertThat(producer.history()).as("the result, once the producer took it").hasSize(1);
        assertThat(fatalErrors).isEmpty();

        synchronized (producer) {
            producer.sendException = new org.apache.kafka.common.errors.TopicAuthorizationException("results");
        }
        send(Commands.paths(HOST, "r", "fast", b("f")));
        await().atMost(Duration.ofSeconds(10)).until(() -> !fatalErrors.isEmpty());
        assertThat(fatalErrors).first().asString().contains("result publisher of host " + HOST)
            .contains("ACLs");
    }

    @Test
    void aProducerItDoesNotOwnIsLeftOpenAtClose() throws Exception {
        Properties p = new Properties();
        p.setProperty("destination.fast.url", tmp.resolve("fast").toString());
        ExecConfig config = ExecConfig.from(p, Map.of());
        CommandValidator validator = new CommandValidator(HOST,
            Map.of("r", tmp.resolve("root").toString().getBytes(StandardCharsets.US_ASCII)), config.destinations());
        ExecutorParts own = ExecutorParts.of(HOST, TOPICS, config, consumer, producer, validator,
            new FakeReplicator(job -> ok()), new PrometheusRegistry(), (component, e) -> fatalErrors.add(component));
        ExecutorParts shared = new ExecutorParts(own.hostId(), own.topics(), own.config(), new PacedMockConsumer(),
            own.producer(), false, own.validator(), own.replicator(), new PrometheusRegistry(), own.clock(),
            own.fatal(), own.sequence(), own.hold(), own.trust());
        new CommandExecutor(shared).close();
        assertThat(producer.closed()).isFalse();
        new CommandExecutor(own).close();
        assertThat(producer.closed()).isTrue();
    }

    @Test
    void aResultCarriesTheCapturePositionReachedBeforeRsyncStartedNotAnyLaterOne() throws Exception {
        io.rtbackup.agent.event.CaptureSequence sequence = new io.rtbackup.agent.event.CaptureSequence(7);
        sequence.next();
        sequence.next(); // two events numbered before the command runs
        Properties p = new Properties();
        p.setProperty("destination.fast.url", tmp.resolve("fast").toString());
        ExecConfig config = ExecConfig.from(p, Map.of());
        CommandValidator validator = new CommandValidator(HOST,
            Map.of("r", tmp.resolve("root").toString().getBytes(StandardCharsets.US_ASCII)), config.destinations());
        // A change captured while rsync runs: numbered after the start, so the result must not claim it.
        FakeReplicator fake = new FakeReplicator(job -> {
            sequence.next();
            return ok();
        });
        executor = new CommandExecutor(ExecutorParts.of(HOST, TOPICS, config, consumer, producer, validator, fake,
            new PrometheusRegistry(), (component, e) -> fatalErrors.add(component + ": " + e)).withSequence(sequence))
            .start();
        assertThat(executor.awaitReady(Duration.ofSeconds(10))).isTrue();
        SyncCommand c = Commands.paths(HOST, "r", "fast", b("f"));
        SyncCommand rejected = Commands.paths(HOST, "r", "fast", b("../x"));
        send(c);
        send(rejected);
        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        SyncResult r = published().get(c.getCommandId());
        assertThat(r.getIncarnation()).isEqualTo(7);
        assertThat(r.getPublishedSeq()).isEqualTo(2);
        assertThat(io.rtbackup.schema.CapturePosition.of(published().get(rejected.getCommandId())))
            .as("a command that did not run covers nothing").isEqualTo(io.rtbackup.schema.CapturePosition.UNKNOWN);
    }
}
