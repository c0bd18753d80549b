package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.CommandPartitions;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the commands topic grows with the fleet, an agent whose host now maps to a new partition moves there and
 * runs what the worker already sent there (real broker, real rsync).
 */
@ExtendWith(KafkaBrokerExtension.class)
class CommandPartitionGrowthTest {
    private static final String REPLY_TO = "worker-growth";
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @TempDir
    Path tmp;

    @AfterEach
    void noComponentGaveUp() {
        fatal.assertNone();
    }

    @Test
    void anAgentFollowsItsHostToTheNewPartitionAndMissesNothingSentThere(KafkaBroker broker) throws Exception {
        String bootstrap = broker.bootstrapServers();
        Topics topics = Topics.withPrefix("growth-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(bootstrap, topics);
        // a host that moves when the topic doubles from 6 to 12 partitions
        String host = "mover-0";
        for (int i = 0; CommandPartitions.of(host, 12) == CommandPartitions.of(host, 6); i++) host = "mover-" + i;

        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("before"), "1\n");
        Files.writeString(root.resolve("after"), "2\n");
        Path dst = tmp.resolve("dst");
        Properties p = new Properties();
        p.setProperty("destination.local.url", dst.toString());
        ExecConfig config = ExecConfig.from(p, Map.of());
        Map<String, byte[]> roots = Map.of("r", BytePaths.utf8(root.toString()));
        AtomicLong skewMs = new AtomicLong();
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.now().plusMillis(skewMs.get());
            }
        };
        Map<String, Object> c = new HashMap<>(CommandExecutor.consumerProperties(host));
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 500); // see the new partitions at once
        Map<String, Object> pr = new HashMap<>(CommandExecutor.producerProperties(host));
        pr.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        AvroCodec<SyncCommand> codec = AvroCodec.syncCommands();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                 ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                 ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                 ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
             KafkaConsumer<byte[], byte[]> results = resultsConsumer(bootstrap, topics);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             CommandExecutor executor = new CommandExecutor(ExecutorParts.of(host, topics, config,
                 new KafkaConsumer<>(c), new KafkaProducer<>(pr), new CommandValidator(host, roots,
                 config.destinations()), new RsyncRunner(config.rsyncPath()), new PrometheusRegistry(), fatal)
                 .withClock(clock)).start()) {
            assertThat(executor.awaitReady(Duration.ofSeconds(60))).isTrue();
            byte[] key = host.getBytes(StandardCharsets.UTF_8);
            SyncCommand before = withReply(Commands.paths(host, "r", "local", b("before")));
            producer.send(new ProducerRecord<>(topics.commands(), CommandPartitions.of(host, 6), key,
                codec.encode(before))).get();
            assertThat(awaitResults(results, 1)).containsOnlyKeys(before.getCommandId());

            admin.createPartitions(Map.of(topics.commands(), NewPartitions.increaseTo(12))).all()
                .get(30, TimeUnit.SECONDS);
            // the worker saw the new count first and wrote to the host's new partition before the agent moved
            SyncCommand after = withReply(Commands.paths(host, "r", "local", b("after")));
            producer.send(new ProducerRecord<>(topics.commands(), CommandPartitions.of(host, 12), key,
                codec.encode(after))).get();
            Thread.sleep(1_000); // past the consumer's metadata age
            skewMs.addAndGet((OwnCommandPartition.CHECK_S + 1) * 1000L); // the next check is due

            Map<String, SyncResult> got = awaitResults(results, 1);
            assertThat(got).containsOnlyKeys(after.getCommandId());
            assertThat(got.get(after.getCommandId()).getOutcome()).isEqualTo(SyncOutcome.OK);
            assertThat(dst.resolve(host).resolve("r/after")).hasContent("2");
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
                SyncResult r = codec.decode(rec.value());
                got.put(r.getCommandId(), r);
            }
        }
        return got;
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
}
