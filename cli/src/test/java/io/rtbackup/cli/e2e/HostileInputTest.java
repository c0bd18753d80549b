package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.transport.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage and malice on the topics and at the destinations: every bad input is refused with a clear reason, counted,
 * and dead-lettered where the worker owns it, while good changes keep converging.
 */
@ExtendWith({KafkaBrokerExtension.class, LostSummary.class})
class HostileInputTest {
    static final Duration CONVERGE = Duration.ofSeconds(150);
    static final AvroCodec<FileEvent> EVENTS = AvroCodec.fileEvents();
    static final AvroCodec<SyncCommand> COMMANDS = AvroCodec.syncCommands();

    @TempDir
    Path dir;

    @Test
    void poisonOnEventsAndCommandsIsRefusedCountedAndDeadLetteredWhileGoodChangesConverge(KafkaBroker broker)
            throws Exception {
        try (Fleet fleet = new Fleet(broker);
             KafkaProducer<byte[], byte[]> producer = producer(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            assertThat(fleet.agent.awaitCommandsRead(Duration.ofSeconds(60))).as("agent reads its commands").isTrue();
            LostSummary.SCENARIOS.incrementAndGet();
            Workload w = new Workload(fleet.source, 201);
            w.run(60, 20);
            Random random = new Random(201);
            List<Future<RecordMetadata>> sent = new ArrayList<>();

            // ---- 1000 bad events (+ oversized ones) -------------------------------------------------------
            int undecodableEvents = 0;
            int invalidEvents = 0;
            byte[] valid = EVENTS.encode(event(Fleet.HOST, Fleet.ROOT, BytePaths.utf8("some/file")));
            for (int i = 0; i < 400; i++, undecodableEvents++) {
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.events(), randomBytes(random, 16),
                    randomBytes(random, 1 + random.nextInt(2000)))));
            }
            for (int i = 0; i < 200; i++, undecodableEvents++) { // cut anywhere, header included
                byte[] cut = java.util.Arrays.copyOf(valid, random.nextInt(valid.length - 1));
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.events(), key(), cut)));
            }
            for (int i = 0; i < 200; i++, undecodableEvents++) { // a schema nobody knows
                byte[] foreign = valid.clone();
                for (int b = 2; b < 10; b++) foreign[b] = (byte) random.nextInt(256);
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.events(), key(), foreign)));
            }
            // paths the worker's intake refuses (the schemas wire rule, the same as the agent's): none reaches an agent
            String[] escaping = {"../../etc/passwd", "/etc/shadow", "a//b", "a/./b", "a/../../b", "trailing/", "x\0y"};
            String[] badPaths = {"../../etc/passwd", "/etc/shadow", "a//b", "a/./b", "a/../../b", "trailing/", "x\0y"};
            for (int i = 0; i < 200; i++, invalidEvents++) { // well-formed records with paths escaping the root
                byte[] path = BytePaths.utf8(escaping[i % escaping.length]);
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.events(), key(),
                    EVENTS.encode(event(Fleet.HOST, Fleet.ROOT, path)))));
            }
            for (int i = 0; i < 3; i++, undecodableEvents++) { // just under the topic's 1 MiB limit
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.events(), key(),
                    randomBytes(random, 1_000_000))));
            }

            // ---- 1000 bad commands, keyed to reach the agent --------------------------------------------
            byte[] hostKey = Fleet.HOST.getBytes(StandardCharsets.UTF_8);
            int undecodableCommands = 0;
            int rejectedCommands = 0;
            byte[] validCommand = COMMANDS.encode(command("d1", Fleet.ROOT, BytePaths.utf8("x")).build());
            for (int i = 0; i < 300; i++, undecodableCommands++) {
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.commands(), hostKey,
                    randomBytes(random, 1 + random.nextInt(2000)))));
            }
            for (int i = 0; i < 100; i++, undecodableCommands++) {
                byte[] cut = java.util.Arrays.copyOf(validCommand, random.nextInt(validCommand.length - 1));
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.commands(), hostKey, cut)));
            }
            for (int i = 0; i < 100; i++, undecodableCommands++) {
                byte[] foreign = validCommand.clone();
                for (int b = 2; b < 10; b++) foreign[b] = (byte) random.nextInt(256);
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.commands(), hostKey, foreign)));
            }
            for (int i = 0; i < 2; i++, undecodableCommands++) { // megabytes of noise
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.commands(), hostKey,
                    randomBytes(random, 4_000_000))));
            }
            for (int i = 0; i < 500; i++, rejectedCommands++) {
                SyncCommand.Builder c = switch (i % 5) {
                    case 0 -> command("d1", Fleet.ROOT, BytePaths.utf8(badPaths[i % badPaths.length]));
                    case 1 -> command("d1", "no-such-root", BytePaths.utf8("x"));
                    case 2 -> command("no-such-destination", Fleet.ROOT, BytePaths.utf8("x"));
                    case 3 -> command("d2", Fleet.ROOT, BytePaths.utf8("x")).setRemotePrefix("../../elsewhere");
                    default -> command("d2", Fleet.ROOT, BytePaths.utf8("escape/../../../etc"));
                };
                sent.add(producer.send(new ProducerRecord<>(fleet.topics.commands(), hostKey,
                    COMMANDS.encode(c.build()))));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) f.get();
            int bad = sent.size();
            LostSummary.BAD_RECORDS.addAndGet(bad);
            System.out.printf("hostile input: %d bad records sent (%d undecodable + %d invalid events, %d undecodable "
                + "+ %d rejected commands)%n", bad, undecodableEvents, invalidEvents, undecodableCommands,
                rejectedCommands);

            // good changes during and after the poison
            w.run(140, 20);
            LostSummary.OPERATIONS.addAndGet(w.applied());
            Convergence.await(fleet, w, "hostile input", CONVERGE);

            // counted ...
            int events = undecodableEvents;
            int invalid = invalidEvents;
            int undecodable = undecodableCommands;
            int rejected = rejectedCommands;
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                for (String d : List.of("d1", "d2")) {
                    assertThat(counter(fleet.registry, "rtb_worker_dlq_records", Map.of("destination", d,
                        "kind", DeadLetter.KIND_UNDECODABLE_EVENT))).as("undecodable events dead-lettered by %s", d)
                        .isEqualTo(events);
                    assertThat(counter(fleet.registry, "rtb_worker_dlq_records", Map.of("destination", d,
                        "kind", DeadLetter.KIND_INVALID_EVENT))).as("invalid events dead-lettered by %s", d)
                        .isEqualTo(invalid);
                }
                assertThat(counter(fleet.registry, "rtb_agent_undecodable_commands", Map.of()))
                    .as("undecodable commands counted by the agent").isEqualTo(undecodable);
                assertThat(counter(fleet.registry, "rtb_agent_commands", Map.of("outcome", "rejected")))
                    .as("hostile commands rejected by the agent").isEqualTo(rejected);
            });
            // ... and dead-lettered with their reason
            Map<String, Integer> dlq = dlqKinds(broker, fleet.topics.dlq());
            System.out.println("hostile input: DLQ records by kind " + dlq);
            assertThat(dlq.getOrDefault(DeadLetter.KIND_UNDECODABLE_EVENT, 0)).isEqualTo(2 * events);
            assertThat(dlq.getOrDefault(DeadLetter.KIND_INVALID_EVENT, 0)).isEqualTo(2 * invalid);
        }
    }

    @Test
    void aCommandPointingAtAnotherHostsReplicaIsRefusedAndDeletesNothing(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker);
             KafkaProducer<byte[], byte[]> producer = producer(broker)) {
            // another host's replica on the shared destination
            byte[] victim = BytePaths.join(fleet.d1.moduleDir("backup"), BytePaths.utf8("victim-host"),
                BytePaths.utf8(Fleet.ROOT));
            Files.createDirectories(Path.of(new String(victim, StandardCharsets.UTF_8)));
            Path precious = Path.of(new String(victim, StandardCharsets.UTF_8), "precious");
            Files.writeString(precious, "not yours");
            fleet.startWorker().startAgent();
            // a host's first start reads its commands from the partition's end: the forged one must come after
            assertThat(fleet.agent.awaitCommandsRead(Duration.ofSeconds(60))).as("agent reads its commands").isTrue();
            LostSummary.SCENARIOS.incrementAndGet();

            // a whole-root run (rsync --delete) of this host's root, pointed at the victim's tree
            SyncCommand forged = command("d1", Fleet.ROOT, BytePaths.utf8("x")).setPaths(List.of()).setFullSync(true)
                .setRemotePrefix("victim-host/" + Fleet.ROOT).build();
            producer.send(new ProducerRecord<>(fleet.topics.commands(), Fleet.HOST.getBytes(StandardCharsets.UTF_8),
                COMMANDS.encode(forged))).get();
            LostSummary.BAD_RECORDS.incrementAndGet();
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(fleet.registry, "rtb_agent_commands",
                Map.of("destination", "d1", "outcome", "rejected")) >= 1);

            Workload w = new Workload(fleet.source, 203);
            w.run(40, 20);
            LostSummary.OPERATIONS.addAndGet(w.applied());
            Convergence.await(fleet, w, "foreign prefix", CONVERGE);
            assertThat(precious).as("the other host's replica").hasContent("not yours");
            assertThat(fleet.d1.transfers().stream().map(t -> BytePaths.show(t.path())))
                .as("nothing was sent to or deleted in victim-host/").noneMatch(p -> p.startsWith("victim-host"));
        }
    }

    @Test
    void aWrongRsyncPasswordFailsClearlyAndARotatedPasswordFileHeals(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            Path secret = dir.resolve("d2.secret");
            Files.createFile(secret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(secret, "not the password\n");
            fleet.agentOverrides.setProperty("destination.d2.password-file", secret.toString());
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            LostSummary.SCENARIOS.incrementAndGet();
            LostSummary.FAULTS.incrementAndGet();
            Workload w = new Workload(fleet.source, 202);
            w.run(100, 20);
            Convergence.awaitOne(fleet, fleet.d1, w, "wrong password", CONVERGE); // d1 does not wait for d2
            await().atMost(CONVERGE).until(() -> counter(fleet.registry, "rtb_agent_commands",
                Map.of("destination", "d2", "outcome", "failed")) > 0);
            String error = failedResultErrors(broker, fleet, "d2").get(0);
            System.out.println("wrong password: d2 reports " + error);
            assertThat(error).contains("auth failed");
            assertThat(fleet.d2.transfers()).as("nothing reached d2 without the password").isEmpty();

            Files.writeString(secret, fleet.d2.password().orElseThrow() + "\n"); // the operator fixes the file
            w.run(50, 20);
            LostSummary.OPERATIONS.addAndGet(w.applied());
            Convergence.await(fleet, w, "wrong password, then rotated", CONVERGE);
        }
    }

    @Test
    void aReadOnlyDestinationModuleFailsClearlyWithoutHoldingBackTheOther(KafkaBroker broker) throws Exception {
        byte[] readOnly = dirBytes("ro");
        try (Fleet fleet = new Fleet(broker, b -> b, b -> b.readOnlyModule("ro", readOnly))) {
            fleet.agentOverrides.setProperty("destination.d2.url", fleet.d2.url("ro"));
            fleet.withCommandTimeout(Duration.ofSeconds(40)).startWorker().startAgent();
            LostSummary.SCENARIOS.incrementAndGet();
            LostSummary.FAULTS.incrementAndGet();
            Workload w = new Workload(fleet.source, 203);
            w.run(100, 20);
            LostSummary.OPERATIONS.addAndGet(w.applied());
            Convergence.awaitOne(fleet, fleet.d1, w, "read-only destination", CONVERGE);
            await().atMost(CONVERGE).until(() -> counter(fleet.registry, "rtb_agent_commands",
                Map.of("destination", "d2", "outcome", "failed")) > 0);
            String error = failedResultErrors(broker, fleet, "d2").get(0);
            System.out.println("read-only module: d2 reports " + error);
            assertThat(error).containsIgnoringCase("read only");
            assertThat(counter(fleet.registry, "rtb_agent_commands", Map.of("destination", "d2", "outcome", "failed")))
                .isPositive();
            assertThat(fleet.d2.transfers()).isEmpty();
        }
    }

    private byte[] dirBytes(String name) throws java.io.IOException {
        return BytePaths.utf8(Files.createDirectories(dir.resolve(name)).toString());
    }

    /** The errors of the FAILED results the agent published for {@code destination} (retries are not reported). */
    static List<String> failedResultErrors(KafkaBroker broker, Fleet fleet, String destination) {
        AvroCodec<SyncResult> codec = AvroCodec.syncResults();
        List<String> errors = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(broker, fleet.topics.results())) {
            SyncResult result = codec.decode(r.value());
            if (result.getDestination().equals(destination) && result.getOutcome() == SyncOutcome.FAILED) {
                errors.add(String.valueOf(result.getError()));
            }
        }
        return errors;
    }

    /** The sum of a counter's data points whose labels include {@code labels}; names without the _total suffix. */
    static double counter(PrometheusRegistry registry, String name, Map<String, String> labels) {
        double sum = 0;
        for (MetricSnapshot s : registry.scrape()) {
            if (!(s instanceof CounterSnapshot c) || !c.getMetadata().getName().equals(name)) continue;
            for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
                boolean match = labels.entrySet().stream()
                    .allMatch(e -> e.getValue().equals(p.getLabels().get(e.getKey())));
                if (match) sum += p.getValue();
            }
        }
        return sum;
    }

    private static Map<String, Integer> dlqKinds(KafkaBroker broker, String topic) {
        Map<String, Integer> kinds = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(broker, topic)) {
            Header kind = r.headers().lastHeader(DeadLetter.H_KIND);
            Header reason = r.headers().lastHeader(DeadLetter.H_REASON);
            assertThat(reason).as("every DLQ record says why").isNotNull();
            kinds.merge(kind == null ? "?" : new String(kind.value(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        return kinds;
    }

    /** Every record now in {@code topic}, read without a consumer group. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker broker, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(16 << 20));
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 60_000;
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) out.add(r);
            }
        }
        return out;
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaBroker broker) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p);
    }

    private static FileEvent event(String host, String root, byte[] path) {
        return FileEvent.newBuilder().setHostId(host).setRootId(root).setPath(ByteBuffer.wrap(path))
            .setOp(FileOp.MODIFY).setDirectory(false).setOtherPath(null).setSource(CaptureSource.SCAN).setSeq(1)
            .setEventTimeNs(System.nanoTime()).build();
    }

    private static SyncCommand.Builder command(String destination, String root, byte[] path) {
        return SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId(Fleet.HOST)
            .setRootId(root).setDestination(destination).setPaths(List.of(ByteBuffer.wrap(path))).setFullSync(false)
            .setIssuedAtMs(System.currentTimeMillis()).setReplyTo("hostile-test").setCovers(List.of())
            .setRemotePrefix(null);
    }

    private static byte[] key() {
        return UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
