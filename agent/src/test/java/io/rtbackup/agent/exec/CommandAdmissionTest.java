package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandExecutorTest.FakeReplicator;
import io.rtbackup.agent.exec.CommandExecutorTest.PacedMockConsumer;
import io.rtbackup.agent.trust.Trust;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.signing.Keyring;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.RejectReason;
import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.schema.signing.Verification;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which commands the executor runs (expiry without this host's clock, signatures, commands read again), with
 * Kafka's in-memory doubles, real key files and a stand-in replicator. Real broker and rsync: ForgedRecordsTest.
 */
class CommandAdmissionTest {
    private static final String HOST = "h";
    private static final Topics TOPICS = new Topics("ev", "cmd", "res", "dlq", "status");

    @TempDir
    Path tmp;
    private TopicPartition tp;
    private PacedMockConsumer consumer;
    private MockProducer<byte[], byte[]> producer;
    private CommandExecutor executor;
    private final AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
    private final AvroCodec<SyncResult> results = AvroCodec.syncResults();
    private long nextOffset;
    private final List<String> ran = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(tmp.resolve("root"));
        Files.writeString(tmp.resolve("root/f"), "x");
        tp = new TopicPartition("cmd", CommandExecutor.partitionFor(HOST, 6));
        consumer = new PacedMockConsumer();
        List<PartitionInfo> infos = new ArrayList<>();
        for (int i = 0; i < 6; i++) infos.add(new PartitionInfo("cmd", i, Node.noNode(), null, null));
        consumer.updatePartitions("cmd", infos);
        consumer.updateEndOffsets(Map.of(tp, 0L));
        producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void tearDown() {
        if (executor != null) executor.close();
    }

    private void start(Clock clock, Trust trust, FakeReplicator replicator) throws Exception {
        Properties p = new Properties();
        p.setProperty("destination.d.url", tmp.resolve("d").toString());
        p.setProperty("destination.d.max-concurrent", "1");
        p.setProperty("exec.command-max-age-s", "900");
        ExecConfig config = ExecConfig.from(p, Map.of());
        CommandValidator validator = new CommandValidator(HOST,
            Map.of("r", tmp.resolve("root").toString().getBytes(StandardCharsets.US_ASCII)), config.destinations());
        executor = new CommandExecutor(ExecutorParts.of(HOST, TOPICS, config, consumer, producer, validator,
            replicator, new PrometheusRegistry(), (component, e) -> { }).withClock(clock).withTrust(trust)).start();
        assertThat(executor.awaitReady(Duration.ofSeconds(10))).isTrue();
    }

    private FakeReplicator recording() {
        return new FakeReplicator(job -> {
            ran.add(job.toString());
            return CommandExecutorTest.ok();
        });
    }

    private ConsumerRecord<byte[], byte[]> record(SyncCommand c, RecordSigner signer) {
        byte[] key = HOST.getBytes(StandardCharsets.UTF_8);
        byte[] value = commands.encode(c);
        Headers h = signer == null ? new RecordHeaders() : signer.sign("cmd", key, value);
        return new ConsumerRecord<>("cmd", tp.partition(), nextOffset++, 0L, TimestampType.CREATE_TIME, -1, -1, key,
            value, h, java.util.Optional.empty());
    }

    /** Adds records so that one poll returns them all (the executor sees them together). */
    private void sendTogether(List<ConsumerRecord<byte[], byte[]>> records) {
        consumer.schedulePollTask(() -> records.forEach(consumer::addRecord));
    }

    private List<SyncResult> published() {
        List<SyncResult> out = new ArrayList<>();
        for (ProducerRecord<byte[], byte[]> r : producer.history()) out.add(results.decode(r.value()));
        return out;
    }

    private SyncResult resultOf(SyncCommand c) {
        return published().stream().filter(r -> r.getCommandId().equals(c.getCommandId())).findFirst().orElseThrow();
    }

    private static SyncCommand issuedAt(long ms) {
        return Commands.base(HOST, "r", "d").setPaths(List.of(java.nio.ByteBuffer.wrap(b("f")))).setIssuedAtMs(ms)
            .build();
    }

    /**
     * Issue #15: the agent's clock an hour ahead of the worker's (or the worker's an hour behind). Before, the agent
     * compared its own clock with the worker's issuedAtMs and answered every command "expired" without running
     * rsync, so nothing of that host replicated; now only worker timestamps are compared with each other.
     */
    @Test
    void anAgentClockFarAheadExpiresNothing() throws Exception {
        start(Clock.offset(Clock.systemUTC(), Duration.ofHours(1)), Trust.none(), recording());
        SyncCommand now = issuedAt(System.currentTimeMillis());
        SyncCommand next = issuedAt(System.currentTimeMillis() + 1000);
        sendTogether(List.of(record(now, null), record(next, null)));

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        assertThat(resultOf(now).getOutcome()).isEqualTo(SyncOutcome.OK);
        assertThat(resultOf(next).getOutcome()).isEqualTo(SyncOutcome.OK);
        assertThat(ran).hasSize(2);
    }

    /** The backlog case expiry is for: a command whose worker issued another one 16 minutes later is not run. */
    @Test
    void aCommandItsWorkerFollowedWithOneIssuedMoreThanTheMaxAgeLaterIsAnsweredFailedNotRun() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        start(Clock.systemUTC(), Trust.none(), new FakeReplicator(job -> {
            if (calls.incrementAndGet() == 1) {
                try {
                    release.await(10, TimeUnit.SECONDS); // holds the pool until every record has been read
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ran.add(job.toString());
            return CommandExecutorTest.ok();
        }));
        long t0 = 1_000_000_000_000L; // the worker's clock, whatever it says: the agent's plays no part
        SyncCommand blocker = issuedAt(t0 + 16 * 60_000 - 1000);
        SyncCommand old = issuedAt(t0);
        SyncCommand stillFresh = issuedAt(t0 + 10 * 60_000);
        SyncCommand late = issuedAt(t0 + 16 * 60_000);
        sendTogether(List.of(record(blocker, null), record(old, null), record(stillFresh, null), record(late, null)));
        await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
        release.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 4);
        assertThat(resultOf(old).getOutcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(resultOf(old).getError()).contains("expired").contains("test-worker");
        assertThat(resultOf(blocker).getOutcome()).isEqualTo(SyncOutcome.OK);
        assertThat(resultOf(stillFresh).getOutcome()).as("10 minutes older than the latest: within 15")
            .isEqualTo(SyncOutcome.OK);
        assertThat(resultOf(late).getOutcome()).isEqualTo(SyncOutcome.OK);
    }

    /** A worker whose clock stepped back 20 minutes: its new commands are not "older" than those before the step. */
    @Test
    void aWorkerClockSteppedBackDoesNotExpireItsNewCommands() throws Exception {
        start(Clock.systemUTC(), Trust.none(), recording());
        long t0 = 1_000_000_000_000L;
        SyncCommand before = issuedAt(t0);
        SyncCommand afterStep = issuedAt(t0 - 20 * 60_000);
        sendTogether(List.of(record(before, null)));
        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 1);
        sendTogether(List.of(record(afterStep, null)));

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        assertThat(resultOf(afterStep).getOutcome()).isEqualTo(SyncOutcome.OK);
    }

    @Test
    void onlyCommandsSignedByAWorkerKeyOfTheKeyringRunAndARefusalIsAnsweredFailedNeverRejected() throws Exception {
        SigningKey.generate(tmp.resolve("keys"), "w1");
        SigningKey.generate(tmp.resolve("keys"), HOST);
        Path ring = Files.createDirectories(tmp.resolve("ring"));
        Files.copy(tmp.resolve("keys/w1.pub"), ring.resolve("w1.pub"));
        RecordSigner worker = new RecordSigner(SigningKey.load(tmp.resolve("keys/w1.key")));
        RecordSigner host = new RecordSigner(SigningKey.load(tmp.resolve("keys/" + HOST + ".key")));
        List<RejectReason> rejected = new CopyOnWriteArrayList<>();
        start(Clock.systemUTC(), new Trust(host, new RecordVerifier(Keyring.load(ring), true), rejected::add),
            recording());
        SyncCommand signed = Commands.paths(HOST, "r", "d", b("f"));
        SyncCommand unsigned = Commands.paths(HOST, "r", "d", b("f"));
        SyncCommand byHostKey = Commands.paths(HOST, "r", "d", b("f"));
        ConsumerRecord<byte[], byte[]> genuine = record(signed, worker);
        ConsumerRecord<byte[], byte[]> tampered = new ConsumerRecord<>("cmd", tp.partition(), nextOffset++, 0L,
            TimestampType.CREATE_TIME, -1, -1, genuine.key(),
            commands.encode(SyncCommand.newBuilder(signed).setRemotePrefix("other-host/").build()),
            genuine.headers(), java.util.Optional.empty());
        ConsumerRecord<byte[], byte[]> unsignedRecord = record(unsigned, null);
        ConsumerRecord<byte[], byte[]> byHostKeyRecord = record(byHostKey, host);
        sendTogether(List.of(genuine, tampered, unsignedRecord, byHostKeyRecord));

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 4);
        assertThat(ran).hasSize(1);
        // the genuine and the tampered record share a command id; the refusal of the tampered one may be published
        // before the genuine run ends, so the order of the two answers is not part of the contract
        for (SyncCommand c : List.of(unsigned, byHostKey)) {
            assertThat(resultOf(c).getOutcome()).isEqualTo(SyncOutcome.FAILED);
            assertThat(resultOf(c).getError()).contains("not authenticated");
        }
        assertThat(published().stream().filter(r -> r.getCommandId().equals(signed.getCommandId())).toList())
            .extracting(SyncResult::getOutcome).containsExactlyInAnyOrder(SyncOutcome.OK, SyncOutcome.FAILED);
        assertThat(rejected).containsExactlyInAnyOrder(RejectReason.UNSIGNED, RejectReason.UNKNOWN_KEY,
            RejectReason.BAD_SIGNATURE);
        // every result is signed by the host's key
        RecordVerifier asWorker = new RecordVerifier(Keyring.of(Map.of(HOST, io.rtbackup.schema.signing.PublicKeys
            .read(tmp.resolve("keys/" + HOST + ".pub")))), true);
        for (ProducerRecord<byte[], byte[]> r : producer.history()) {
            assertThat(asWorker.verify(r.topic(), r.key(), r.value(), r.headers()))
                .isEqualTo(new Verification.Verified(HOST, host.keyId()));
        }
    }

    /**
     * A command read again (a duplicate record, a replay, a re-read after a re-seek) is answered with its first
     * result, without a second rsync, and never left without an answer.
     */
    @Test
    void aCommandReadAgainIsAnsweredWithItsFirstResultWithoutRunningAgain() throws Exception {
        start(Clock.systemUTC(), Trust.none(), recording());
        SyncCommand c = Commands.paths(HOST, "r", "d", b("f"));
        sendTogether(List.of(record(c, null)));
        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 1);
        sendTogether(List.of(record(c, null)));

        await().atMost(Duration.ofSeconds(10)).until(() -> published().size() == 2);
        assertThat(ran).hasSize(1);
        assertThat(producer.history().get(1).value()).isEqualTo(producer.history().get(0).value());
        assertThat(resultOf(c).getOutcome()).isEqualTo(SyncOutcome.OK);
    }
}
