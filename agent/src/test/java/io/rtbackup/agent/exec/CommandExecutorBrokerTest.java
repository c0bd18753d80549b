package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.WalkEntry;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Commands written to the real commands topic come back as results on the real results topic. */
@ExtendWith(KafkaBrokerExtension.class)
class CommandExecutorBrokerTest {
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @AfterEach
    void noComponentGaveUp() {
        fatal.assertNone();
    }

    private static final String HOST = "agent-host-1";
    private static final String REPLY_TO = "worker-7";

    @TempDir
    Path tmp;

    @Test
    void commandsYieldResultsAndHostileCommandsAreRejected(KafkaBroker broker) throws Exception {
        String bootstrap = broker.bootstrapServers();
        Topics topics = Topics.withPrefix("exec-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(bootstrap, topics);

        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("hello"), "hello\n");
        Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(tmp.resolve("outside/secret"), "do not copy me\n");
        Files.createSymbolicLink(root.resolve("escape"), tmp.resolve("outside"));
        Path dst = tmp.resolve("dst");
        Properties p = new Properties();
        p.setProperty("destination.local.url", dst.toString());
        ExecConfig config = ExecConfig.from(p, Map.of());
        Map<String, byte[]> roots = Map.of("r", BytePaths.utf8(root.toString()));
        PrometheusRegistry registry = new PrometheusRegistry();
        Map<String, Object> kafka = Map.of("bootstrap.servers", bootstrap);

        AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap);
             KafkaConsumer<byte[], byte[]> results = resultsConsumer(bootstrap, topics)) {
            List<SyncCommand> expected = new ArrayList<>();
            SyncCommand ok;
            // results go through the test's producer, as the agent's go through its shared one (not closed by it)
            try (CommandExecutor executor = new CommandExecutor(ExecutorParts.connect(HOST, topics, kafka, roots,
                    Map.of(), config, new RsyncRunner(config.rsyncPath()), producer, registry, fatal)).start()) {
                assertThat(executor.awaitReady(Duration.ofSeconds(60))).as("executor ready").isTrue();

                byte[] key = HOST.getBytes(StandardCharsets.UTF_8);
                int partition = producer.send(new ProducerRecord<>(topics.commands(), key, b("not avro at all")))
                    .get().partition();
                assertThat(partition).as("the agent's partition")
                    .isEqualTo(CommandExecutor.partitionFor(HOST, partitions(producer, topics.commands())));

                ok = withReply(Commands.paths(HOST, "r", "local", b("hello")));
                SyncCommand full = withReply(Commands.full(HOST, "r", "local"));
                SyncCommand traversal = withReply(Commands.paths(HOST, "r", "local", b("../../etc/passwd")));
                SyncCommand absolute = withReply(Commands.paths(HOST, "r", "local", b("/etc/passwd")));
                SyncCommand unknownRoot = withReply(Commands.paths(HOST, "etc", "local", b("passwd")));
                SyncCommand unknownDest = withReply(Commands.paths(HOST, "r", "elsewhere", b("hello")));
                SyncCommand throughLink = withReply(Commands.paths(HOST, "r", "local", b("escape/secret")));
                SyncCommand otherHostInOurKey = withReply(Commands.paths("someone-else", "r", "local", b("hello")));
                expected.addAll(List.of(ok, full, traversal, absolute, unknownRoot, unknownDest, throughLink,
                    otherHostInOurKey));
                for (SyncCommand c : expected) {
                    producer.send(new ProducerRecord<>(topics.commands(), key, commands.encode(c))).get();
                }
                // Another host's command: whichever partition it lands in, this agent must not answer it.
                SyncCommand notOurs = withReply(Commands.paths("host-b", "r", "local", b("hello")));
                producer.send(new ProducerRecord<>(topics.commands(), b("host-b"), commands.encode(notOurs))).get();

                Map<String, SyncResult> got = awaitResults(results, expected.size());
                assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(
                    expected.stream().map(SyncCommand::getCommandId).toList());
                assertThat(got.get(ok.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.OK);
                assertThat(got.get(ok.getCommandId()).getFilesTransferred()).isEqualTo(1);
                assertThat(got.get(ok.getCommandId()).getExitCode()).isZero();
                assertThat(got.get(full.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.OK);
                // A path through a symlink replicates the symlink itself (what a directory replaced by a symlink
                // needs to converge), never what it points to.
                assertThat(got.get(throughLink.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.OK);
                for (SyncCommand bad : List.of(traversal, absolute, unknownRoot, unknownDest, otherHostInOurKey)) {
                    SyncResult r = got.get(bad.getCommandId());
                    assertThat(r.getOutcome()).as("%s", bad.getPaths()).isEqualTo(SyncOutcome.REJECTED);
                    assertThat(r.getExitCode()).as("rsync must not have run").isEqualTo(-1);
                    assertThat(r.getError()).isNotBlank();
                    assertThat(r.getReplyTo()).isEqualTo(REPLY_TO);
                }

                // The replica holds the root and nothing from outside it.
                byte[] replica = BytePaths.utf8(dst.resolve(HOST).resolve("r").toString());
                assertThat(Files.readString(dst.resolve(HOST).resolve("r/hello"))).isEqualTo("hello\n");
                for (WalkEntry e : ByteFs.walk(BytePaths.utf8(dst.toString()))) {
                    if (e.stat().isRegular()) {
                        assertThat(ByteFs.readAll(BytePaths.utf8(dst.toString() + "/" + new String(e.relPath(),
                            StandardCharsets.ISO_8859_1)))).as(e.toString()).isNotEqualTo(b("do not copy me\n"));
                    }
                    assertThat(BytePaths.show(e.relPath())).doesNotContain("passwd").doesNotContain("secret");
                }
                // The symlink itself is part of the root and arrives as a symlink, not as the directory it names.
                assertThat(ByteFs.lstat(BytePaths.join(replica, b("escape"))).orElseThrow().isSymlink()).isTrue();

                assertThat(counter(registry, "rtb_agent_commands", "local", "ok")).isEqualTo(3);
                assertThat(counter(registry, "rtb_agent_commands", "local", "rejected")).isEqualTo(4);
                assertThat(counter(registry, "rtb_agent_commands", "unknown", "rejected")).isEqualTo(1);
                assertThat(counter(registry, "rtb_agent_undecodable_commands", null, null)).isEqualTo(1);
            }

            // Sent while the agent is down: the next agent resumes at its committed position and runs it.
            Files.writeString(root.resolve("while-down"), "later\n");
            SyncCommand whileDown = withReply(Commands.paths(HOST, "r", "local", b("while-down")));
            producer.send(new ProducerRecord<>(topics.commands(), HOST.getBytes(StandardCharsets.UTF_8),
                commands.encode(whileDown))).get();
            try (CommandExecutor again = new CommandExecutor(ExecutorParts.connect(HOST, topics, kafka, roots,
                    Map.of(), config, new RsyncRunner(config.rsyncPath()), producer, new PrometheusRegistry(), fatal))
                    .start()) {
                assertThat(again.awaitReady(Duration.ofSeconds(60))).isTrue();
                Map<String, SyncResult> got = awaitResults(results, 1);
                assertThat(got).containsOnlyKeys(whileDown.getCommandId());
                assertThat(got.get(whileDown.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.OK);
                assertThat(dst.resolve(HOST).resolve("r/while-down")).hasContent("later");
            }
        }
    }

    private static SyncCommand withReply(SyncCommand c) {
        c.setReplyTo(REPLY_TO);
        return c;
    }

    private static Map<String, SyncResult> awaitResults(KafkaConsumer<byte[], byte[]> consumer, int n) {
        AvroCodec<SyncResult> codec = AvroCodec.syncResults();
        Map<String, SyncResult> got = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                assertThat(new String(rec.key(), StandardCharsets.UTF_8)).isEqualTo(REPLY_TO);
                SyncResult r = codec.decode(rec.value());
                got.put(r.getCommandId(), r);
            }
        }
        return got;
    }

    private static int partitions(KafkaProducer<byte[], byte[]> producer, String topic) {
        List<PartitionInfo> infos = producer.partitionsFor(topic);
        return infos.size();
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
    }

    private static KafkaConsumer<byte[], byte[]> resultsConsumer(String bootstrap, Topics topics) {
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        List<TopicPartition> tps = c.partitionsFor(topics.results()).stream()
            .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        c.assign(tps);
        c.seekToBeginning(tps);
        return c;
    }

    /** A counter's value; {@code destination}/{@code outcome} null for an unlabelled counter. */
    private static double counter(PrometheusRegistry registry, String name, String destination, String outcome) {
        for (MetricSnapshot s : registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (CounterSnapshot.CounterDataPointSnapshot d : ((CounterSnapshot) s).getDataPoints()) {
                if (destination != null && !destination.equals(d.getLabels().get("destination"))) continue;
                if (outcome != null && !outcome.equals(d.getLabels().get("outcome"))) continue;
                return d.getValue();
            }
        }
        return 0;
    }
}
