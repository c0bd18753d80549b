package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.topics.CommandPartitions;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.transport.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue #16, item 3, on real parts (broker, worker, agent, rsync daemons), with signing configured as a fleet does:
 * the worker's keyring holds the hosts' public keys, the agent's the worker's. Forged results (another host's key,
 * none, an unknown key, a tampered one) for a command of this host commit nothing and land in the DLQ with their
 * reason; a forged event too; commands that are unsigned or signed by a host's key do not run, and a replayed
 * genuine command does not run again. A genuine signed command runs (the control that shows the negative checks can
 * fail), and the host's own changes still converge.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ForgedRecordsTest {
    private static final AvroCodec<FileEvent> EVENTS = AvroCodec.fileEvents();
    private static final AvroCodec<SyncCommand> COMMANDS = AvroCodec.syncCommands();
    private static final AvroCodec<SyncResult> RESULTS = AvroCodec.syncResults();

    @Test
    void forgedResultsEventsAndCommandsChangeNothing(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker); KafkaProducer<byte[], byte[]> producer = producer(broker)) {
            Path keys = Path.of(fleet.tmp.pathString(), "keys");
            for (String name : List.of(Fleet.HOST, "h2", "w1", "stranger", "operator")) SigningKey.generate(keys, name);
            Path workerRing = Files.createDirectories(Path.of(fleet.tmp.pathString(), "worker-keyring"));
            Path agentRing = Files.createDirectories(Path.of(fleet.tmp.pathString(), "agent-keyring"));
            Files.copy(keys.resolve(Fleet.HOST + ".pub"), workerRing.resolve(Fleet.HOST + ".pub"));
            Files.copy(keys.resolve("h2.pub"), workerRing.resolve("h2.pub"));
            Files.copy(keys.resolve("operator.pub"), workerRing.resolve("operator.pub")); // rtb dlq replay's key
            Files.copy(keys.resolve("w1.pub"), agentRing.resolve("w1.pub"));
            fleet.agentOverrides.setProperty("signing.key", keys.resolve(Fleet.HOST + ".key").toString());
            fleet.agentOverrides.setProperty("signing.keyring", agentRing.toString());
            fleet.workerOverrides.setProperty("signing.key", keys.resolve("w1.key").toString());
            fleet.workerOverrides.setProperty("signing.keyring", workerRing.toString());
            fleet.workerOverrides.setProperty("result.timeout-ms", "8000");
            RecordSigner host = signer(keys, Fleet.HOST);
            RecordSigner h2 = signer(keys, "h2");
            RecordSigner stranger = signer(keys, "stranger");
            RecordSigner worker = signer(keys, "w1");
            Files.writeString(Path.of(new String(fleet.source, StandardCharsets.UTF_8), "f"), "the host's change");

            // No agent yet: this host's change arrives as an event it signed, and its commands stay out.
            fleet.startWorker();
            RecordMetadata change = send(producer, fleet.topics.events(),
                EventKey.of(Fleet.HOST, Fleet.ROOT, utf8("f")), EVENTS.encode(event(Fleet.HOST, "f")), host);
            // an event about this host signed by another host's key
            send(producer, fleet.topics.events(), EventKey.of(Fleet.HOST, Fleet.ROOT, utf8("g")),
                EVENTS.encode(event(Fleet.HOST, "g")), h2);
            SyncCommand out = await().atMost(Duration.ofSeconds(60)).until(() -> commandFor(broker, fleet, "d1"),
                Optional::isPresent).orElseThrow();

            // Four forged OK results for it, each claiming everything this host ever captured as replicated.
            byte[] forged = RESULTS.encode(okResult(out));
            byte[] replyKey = out.getReplyTo().getBytes(StandardCharsets.UTF_8);
            String results = fleet.topics.results();
            send(producer, results, replyKey, forged, h2);
            send(producer, results, replyKey, forged, null);
            send(producer, results, replyKey, forged, stranger);
            Headers genuine = host.sign(results, replyKey, forged);
            byte[] tampered = RESULTS.encode(SyncResult.newBuilder(okResult(out)).setBytesSent(1).build());
            producer.send(new ProducerRecord<>(results, null, replyKey, tampered, genuine)).get();

            Thread.sleep(3000); // time for a wrongly accepted result to be committed
            assertThat(fleet.reports).as("no batch counted as synced").isEmpty();
            assertThat(committed(broker, fleet, "d1", change)).as("the change is not committed as replicated")
                .isLessThanOrEqualTo(change.offset());
            await().atMost(Duration.ofSeconds(60)).until(() -> dlq(broker, fleet, DeadLetter.KIND_UNAUTHENTICATED_RESULT)
                .size() == 4);
            assertThat(dlq(broker, fleet, DeadLetter.KIND_UNAUTHENTICATED_RESULT))
                .anyMatch(r -> r.startsWith("wrong-signer")).anyMatch(r -> r.startsWith("unsigned"))
                .anyMatch(r -> r.startsWith("unknown-key")).anyMatch(r -> r.startsWith("bad-signature"));
            await().atMost(Duration.ofSeconds(30)).until(() -> dlq(broker, fleet,
                DeadLetter.KIND_UNAUTHENTICATED_EVENT).size() == 2); // one per destination
            assertThat(dlq(broker, fleet, DeadLetter.KIND_UNAUTHENTICATED_EVENT)).allMatch(r -> r.contains("wrong-signer"));
            for (String reason : List.of("wrong-signer", "unsigned", "unknown-key", "bad-signature")) {
                assertThat(HostileInputTest.counter(fleet.registry, "rtb_worker_records_rejected",
                    Map.of("records", "results", "reason", reason))).as(reason).isEqualTo(1);
            }

            // The genuine agent answers the retried command: the change arrives and is committed.
            fleet.startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(60)).until(() -> committed(broker, fleet, "d1", change) > change.offset());

            // Commands: unsigned, signed with a host's key, a genuine one, and a replay of the genuine one.
            byte[] hostKey = Fleet.HOST.getBytes(StandardCharsets.UTF_8);
            int partition = CommandPartitions.of(Fleet.HOST, producer.partitionsFor(fleet.topics.commands()).size());
            String commands = fleet.topics.commands();
            byte[] unsigned = COMMANDS.encode(fullSync("unsigned"));
            byte[] byHostKey = COMMANDS.encode(fullSync("by-host-key"));
            SyncCommand real = fullSync("genuine");
            byte[] genuineCommand = COMMANDS.encode(real);
            Headers workerSignature = worker.sign(commands, hostKey, genuineCommand);
            producer.send(new ProducerRecord<>(commands, partition, hostKey, unsigned)).get();
            producer.send(new ProducerRecord<>(commands, partition, hostKey, byHostKey,
                host.sign(commands, hostKey, byHostKey))).get();
            producer.send(new ProducerRecord<>(commands, partition, hostKey, genuineCommand, workerSignature)).get();
            Path genuineTree = replicaTree(fleet, "genuine");
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(genuineTree.resolve("f")));
            await().atMost(Duration.ofSeconds(30)).until(() -> HostileInputTest.counter(fleet.registry,
                "rtb_agent_records_rejected", Map.of("reason", "unsigned")) == 1
                && HostileInputTest.counter(fleet.registry, "rtb_agent_records_rejected",
                    Map.of("reason", "unknown-key")) == 1);
            assertThat(replicaTree(fleet, "unsigned")).doesNotExist();
            assertThat(replicaTree(fleet, "by-host-key")).doesNotExist();

            // the very same signed record again: answered again, not run again
            try (var walk = Files.walk(genuineTree)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
            producer.send(new ProducerRecord<>(commands, partition, hostKey, genuineCommand, workerSignature)).get();
            await().atMost(Duration.ofSeconds(30)).until(() -> resultsOf(broker, fleet, real.getCommandId()).size() == 2);
            Thread.sleep(2000);
            assertThat(genuineTree).as("the replay did not run rsync again").doesNotExist();
            assertThat(resultsOf(broker, fleet, real.getCommandId())).extracting(SyncResult::getOutcome)
                .containsOnly(SyncOutcome.OK);

            // RESCANs (what rtb dlq replay publishes): an unsigned one is refused, one signed by the operator's key
            // of the workers' keyring is taken.
            FileEvent rescan = FileEvent.newBuilder(event(Fleet.HOST, "f")).setOp(FileOp.RESCAN).build();
            byte[] rescanKey = EventKey.of(Fleet.HOST, Fleet.ROOT, utf8("f"));
            send(producer, fleet.topics.events(), rescanKey, EVENTS.encode(rescan), null);
            await().atMost(Duration.ofSeconds(30)).until(() -> dlq(broker, fleet,
                DeadLetter.KIND_UNAUTHENTICATED_EVENT).size() == 4);
            int reportsBefore = fleet.reports.size();
            send(producer, fleet.topics.events(), rescanKey, EVENTS.encode(rescan), signer(keys, "operator"));
            await().atMost(Duration.ofSeconds(60)).until(() -> fleet.reports.subList(reportsBefore,
                fleet.reports.size()).stream().anyMatch(r -> r.destination().equals("d1")
                    && r.samplePaths().contains("f")));
            assertThat(dlq(broker, fleet, DeadLetter.KIND_UNAUTHENTICATED_EVENT)).hasSize(4);
        }
    }

    private static RecordSigner signer(Path keys, String name) throws Exception {
        return new RecordSigner(SigningKey.load(keys.resolve(name + ".key")));
    }

    private static RecordMetadata send(KafkaProducer<byte[], byte[]> producer, String topic, byte[] key,
                                       byte[] value, RecordSigner signer) throws Exception {
        Headers h = signer == null ? new RecordHeaders() : signer.sign(topic, key, value);
        return producer.send(new ProducerRecord<>(topic, null, key, value, h)).get();
    }

    private static Path replicaTree(Fleet fleet, String name) {
        return Path.of(new String(fleet.d1.moduleDir("backup"), StandardCharsets.UTF_8), Fleet.HOST, "forged-" + name);
    }

    private static SyncCommand fullSync(String name) {
        return SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId(Fleet.HOST)
            .setRootId(Fleet.ROOT).setDestination("d1").setPaths(List.of()).setFullSync(true)
            .setIssuedAtMs(System.currentTimeMillis()).setReplyTo("forged-records-test").setCovers(List.of())
            .setRemotePrefix(Fleet.HOST + "/forged-" + name).build();
    }

    private static FileEvent event(String hostId, String path) {
        return FileEvent.newBuilder().setHostId(hostId).setRootId(Fleet.ROOT).setPath(ByteBuffer.wrap(utf8(path)))
            .setOp(FileOp.MODIFY).setDirectory(false).setOtherPath(null).setSource(CaptureSource.SCAN).setSeq(1)
            .setEventTimeNs(System.nanoTime()).build();
    }

    private static SyncResult okResult(SyncCommand c) {
        return SyncResult.newBuilder().setCommandId(c.getCommandId()).setHostId(c.getHostId())
            .setRootId(c.getRootId()).setDestination(c.getDestination()).setReplyTo(c.getReplyTo())
            .setOutcome(SyncOutcome.OK).setExitCode(0).setFilesTransferred(0).setBytesSent(0).setLiteralBytes(0)
            .setDurationMs(1).setFinishedAtMs(System.currentTimeMillis()).setError(null)
            .setStartedAtMs(Long.MAX_VALUE / 2).setIncarnation(Long.MAX_VALUE / 2).setPublishedSeq(Long.MAX_VALUE / 2)
            .setFailureSide(FailureSide.NONE).setStuckPaths(List.of()).build();
    }

    private static Optional<SyncCommand> commandFor(KafkaBroker broker, Fleet fleet, String destination) {
        for (ConsumerRecord<byte[], byte[]> r : HostileInputTest.readAll(broker, fleet.topics.commands())) {
            SyncCommand c = COMMANDS.decode(r.value());
            if (c.getDestination().equals(destination) && c.getHostId().equals(Fleet.HOST)) return Optional.of(c);
        }
        return Optional.empty();
    }

    private static List<SyncResult> resultsOf(KafkaBroker broker, Fleet fleet, String commandId) {
        List<SyncResult> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : HostileInputTest.readAll(broker, fleet.topics.results())) {
            SyncResult s = RESULTS.decode(r.value());
            if (s.getCommandId().equals(commandId)) out.add(s);
        }
        return out;
    }

    /** The reasons of the DLQ records of {@code kind}. */
    private static List<String> dlq(KafkaBroker broker, Fleet fleet, String kind) {
        List<String> reasons = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : HostileInputTest.readAll(broker, fleet.topics.dlq())) {
            Header k = r.headers().lastHeader(DeadLetter.H_KIND);
            Header why = r.headers().lastHeader(DeadLetter.H_REASON);
            if (k != null && kind.equals(new String(k.value(), StandardCharsets.UTF_8))) {
                reasons.add(new String(why.value(), StandardCharsets.UTF_8));
            }
        }
        return reasons;
    }

    /** The offset destination {@code d}'s group has committed on the partition of {@code change}; -1 for none. */
    private static long committed(KafkaBroker broker, Fleet fleet, String d, RecordMetadata change) throws Exception {
        WorkerConfig config = WorkerConfig.fromProperties(fleet.workerProperties("probe"));
        DestinationConfig dest = config.destination(d);
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(dest.consumerGroup())
                .partitionsToOffsetAndMetadata().get();
            OffsetAndMetadata o = offsets.get(new TopicPartition(change.topic(), change.partition()));
            return o == null ? -1 : o.offset();
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaBroker broker) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p);
    }

    private static byte[] utf8(String s) {
        return BytePaths.utf8(s);
    }
}
