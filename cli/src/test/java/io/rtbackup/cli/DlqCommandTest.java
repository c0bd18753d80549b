package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.deadletter.DeadLetters;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.transport.DeadLetter;
import io.rtbackup.worker.transport.KafkaTransport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * {@code rtb dlq list} and {@code rtb dlq replay} against a real broker, on dead letters written by the worker's own
 * {@link DeadLetters} through its {@link KafkaTransport}: the letters are listed (text and JSON, hostile names
 * escaped), replayed as RESCAN events keyed as agents key theirs, and a letter that names nothing cannot be replayed.
 */
@ExtendWith(KafkaBrokerExtension.class)
class DlqCommandTest {
    /** A name no terminal should see raw: a newline, an escape sequence, a byte that is not UTF-8. */
    private static final byte[] HOSTILE = {'d', 'i', 'r', '/', 'e', 'v', 'i', 'l', '\n', 0x1b, '[', '3', '1', 'm', (byte) 0xff};
    private static final String HOSTILE_SHOWN = "dir/evil\\n\\x1b[31m\\xff";
    private static final byte[] PLAIN = "docs/report.txt".getBytes(StandardCharsets.UTF_8);

    record Run(int exit, String out, String err) {
    }

    static Run rtb(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Rtb()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
            .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /**
     * A fresh set of topics holding five letters, in this order: an invalid event (hostile path), a partial command
     * (plain and hostile path), a rejected full-sync command, an undecodable event whose key still names its path,
     * and an undecodable event that names nothing.
     */
    private static String deadLetters(KafkaBroker broker) throws InterruptedException {
        String prefix = "dlq-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        Topics topics = Topics.withPrefix(prefix);
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        // An idempotent producer's first batches to a partition whose leader is not serving yet can be refused
        // out of order for a long time; end offsets are answered by the leader, so once they are it serves.
        events(broker, prefix);
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker)) {
            c.endOffsets(List.of(new TopicPartition(topics.dlq(), 0)), Duration.ofSeconds(30));
        }
        AtomicInteger stored = new AtomicInteger();
        try (KafkaTransport transport = new KafkaTransport(broker.bootstrapServers(), topics, "w1", Map.of())) {
            DeadLetters letters = new DeadLetters("d1", topics.dlq(), transport,
                new WorkerMetrics(new PrometheusRegistry()), System::nanoTime, ref -> stored.incrementAndGet());
            FileEvent invalid = new FileEvent("h1", "r9", ByteBuffer.wrap(HOSTILE), FileOp.MODIFY, false, null,
                CaptureSource.FANOTIFY, 7L, 1L, null, null, null, 3L);
            letters.sendEvent(new ConsumerRecord<>(topics.events(), 0, 41L, EventKey.of("h1", "r9", HOSTILE),
                AvroCodec.fileEvents().encode(invalid)), DeadLetter.KIND_INVALID_EVENT, "root r9 is not configured");
            letters.sendCommand(command("c-partial", List.of(PLAIN, HOSTILE), false), DeadLetter.KIND_PARTIAL_COMMAND,
                "rsync exit 23: some files vanished", List.of(new EventRef(0, 42L)));
            letters.sendCommand(command("c-rejected", List.of(), true), DeadLetter.KIND_REJECTED_COMMAND,
                "destination d1 unknown to host h1", List.of(new EventRef(0, 43L)));
            letters.sendEvent(new ConsumerRecord<>(topics.events(), 0, 44L, EventKey.of("h2", "r2", PLAIN),
                new byte[] {1, 2, 3}), DeadLetter.KIND_UNDECODABLE_EVENT, "not Avro single-object encoding");
            letters.sendEvent(new ConsumerRecord<>(topics.events(), 0, 45L, new byte[] {9, 9},
                new byte[] {4, 5, 6}), DeadLetter.KIND_UNDECODABLE_EVENT, "not Avro single-object encoding");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (stored.get() < 5 && System.nanoTime() < deadline) {
                letters.settle();
                Thread.sleep(10);
            }
        }
        assertThat(stored.get()).as("letters stored in the DLQ").isEqualTo(5);
        return prefix;
    }

    private static SyncCommand command(String id, List<byte[]> paths, boolean fullSync) {
        return SyncCommand.newBuilder().setCommandId(id).setHostId("h1").setRootId("r1").setDestination("d1")
            .setPaths(paths.stream().map(ByteBuffer::wrap).toList()).setFullSync(fullSync).setIssuedAtMs(1L)
            .setReplyTo("w1").build();
    }

    /** Every record of the events topic, from the beginning to its current end. */
    private static List<ConsumerRecord<byte[], byte[]>> events(KafkaBroker broker, String prefix) {
        String topic = Topics.withPrefix(prefix).events();
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker) {
        return new KafkaConsumer<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
            "key.deserializer", ByteArrayDeserializer.class, "value.deserializer", ByteArrayDeserializer.class));
    }

    @Test
    void listShowsEveryLetterWithHostileNamesEscaped(KafkaBroker broker) throws Exception {
        String prefix = deadLetters(broker);
        Run text = rtb("dlq", "list", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix);
        assertThat(text.exit()).as(text.toString()).isZero();
        List<String> lines = text.out().lines().toList();
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith("0  ").contains("invalid-event", "d1", "h1:r9 '" + HOSTILE_SHOWN + "'",
            "root r9 is not configured");
        assertThat(lines.get(1)).startsWith("1  ").contains("partial-command",
            "h1:r1 'docs/report.txt' '" + HOSTILE_SHOWN + "'", "rsync exit 23");
        assertThat(lines.get(2)).contains("rejected-command", "h1:r1 (whole root)");
        assertThat(lines.get(3)).contains("undecodable-event", "h2:r2 'docs/report.txt'");
        assertThat(lines.get(4)).contains("undecodable-event", "(host and root unknown)");
        assertThat(text.out()).doesNotContain("\u001b").doesNotContain("\uFFFD");

        Run json = rtb("dlq", "list", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--json", "--kind", "partial-command");
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode rows = new ObjectMapper().readTree(json.out());
        assertThat(rows).hasSize(1);
        JsonNode row = rows.get(0);
        assertThat(row.get("offset").asLong()).isEqualTo(1);
        assertThat(row.get("kind").asText()).isEqualTo("partial-command");
        assertThat(row.get("destination").asText()).isEqualTo("d1");
        assertThat(row.get("commandId").asText()).isEqualTo("c-partial");
        assertThat(row.get("worker").asText()).isEqualTo("w1");
        assertThat(row.get("host").asText()).isEqualTo("h1");
        assertThat(row.get("root").asText()).isEqualTo("r1");
        assertThat(row.get("paths").get(1).asText()).isEqualTo(HOSTILE_SHOWN);
        assertThat(BytePaths.unshow(row.get("paths").get(1).asText())).isEqualTo(HOSTILE);
        assertThat(row.get("replayable").asBoolean()).isTrue();

        Run limited = rtb("dlq", "list", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--destination", "d1", "--since", "1h", "--limit", "2");
        assertThat(limited.out().lines().toList()).hasSize(2);
        Run none = rtb("dlq", "list", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--destination", "elsewhere");
        assertThat(none.exit()).isZero();
        assertThat(none.out()).contains("no dead letters");
    }

    @Test
    void replayOfPartialCommandsPublishesRescansKeyedAsAgentsKeyEvents(KafkaBroker broker) throws Exception {
        String prefix = deadLetters(broker);
        Run r = rtb("dlq", "replay", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--kind", "partial-command");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("replayed 1 partial-command d1: RESCAN h1:r1 'docs/report.txt' '"
            + HOSTILE_SHOWN + "'");
        List<ConsumerRecord<byte[], byte[]>> events = events(broker, prefix);
        assertThat(events).hasSize(2);
        List<byte[]> paths = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> rec : events) {
            FileEvent e = AvroCodec.fileEvents().decode(rec.value());
            assertThat(e.getOp()).isEqualTo(FileOp.RESCAN);
            assertThat(e.getHostId()).isEqualTo("h1");
            assertThat(e.getRootId()).isEqualTo("r1");
            byte[] path = new byte[e.getPath().remaining()];
            e.getPath().get(path);
            assertThat(rec.key()).isEqualTo(EventKey.of("h1", "r1", path));
            paths.add(path);
        }
        assertThat(paths).containsExactlyInAnyOrder(PLAIN, HOSTILE);

        // twice is only another sync of the same paths
        Run again = rtb("dlq", "replay", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--offset", "1");
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(events(broker, prefix)).hasSize(4);
    }

    @Test
    void aLetterThatNamesNothingCannotBeReplayed(KafkaBroker broker) throws Exception {
        String prefix = deadLetters(broker);
        Run r = rtb("dlq", "replay", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--kind", "undecodable-event");
        assertThat(r.exit()).as(r.toString()).isEqualTo(DlqReplayCommand.EXIT_CANNOT_REPLAY);
        assertThat(r.out()).contains("replayed 3 undecodable-event d1: RESCAN h2:r2 'docs/report.txt'")
            .contains("cannot replay 4 undecodable-event d1");
        List<ConsumerRecord<byte[], byte[]>> events = events(broker, prefix);
        assertThat(events).hasSize(1);
        assertThat(events.get(0).key()).isEqualTo(EventKey.of("h2", "r2", PLAIN));

        Run root = rtb("dlq", "replay", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--kind", "rejected-command");
        assertThat(root.exit()).as(root.toString()).isZero();
        List<ConsumerRecord<byte[], byte[]>> after = events(broker, prefix);
        assertThat(after).hasSize(2);
        // partitions hold no order between them: the root's RESCAN is the one that is not h2's
        ConsumerRecord<byte[], byte[]> rootRecord = after.stream()
            .filter(rec -> !Arrays.equals(rec.key(), EventKey.of("h2", "r2", PLAIN))).findFirst().orElseThrow();
        FileEvent whole = AvroCodec.fileEvents().decode(rootRecord.value());
        assertThat(whole.getOp()).isEqualTo(FileOp.RESCAN);
        assertThat(whole.getHostId()).isEqualTo("h1");
        assertThat(whole.getPath().remaining()).isZero();
        assertThat(rootRecord.key()).isEqualTo(EventKey.of("h1", "r1", new byte[0]));
    }

    @Test
    void dryRunPublishesNothing(KafkaBroker broker) throws Exception {
        String prefix = deadLetters(broker);
        Run r = rtb("dlq", "replay", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", prefix,
            "--dry-run");
        assertThat(r.exit()).as(r.toString()).isEqualTo(DlqReplayCommand.EXIT_CANNOT_REPLAY);
        assertThat(r.out()).contains("would replay 0 invalid-event d1: RESCAN h1:r9 '" + HOSTILE_SHOWN + "'")
            .contains("would replay 1 partial-command").contains("cannot replay 4");
        assertThat(events(broker, prefix)).isEmpty();
    }

    @Test
    void unreachableKafkaIsExitCodeThree() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        Run r = rtb("dlq", "list", "--bootstrap-servers", "127.0.0.1:" + port, "--timeout-s", "2");
        assertThat(r.exit()).as(r.toString()).isEqualTo(DlqCommand.EXIT_UNAVAILABLE);
        assertThat(r.err()).contains("cannot read rtb.dlq from Kafka at 127.0.0.1:" + port);
    }
}
