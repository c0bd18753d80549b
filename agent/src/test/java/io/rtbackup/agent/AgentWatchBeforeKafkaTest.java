package io.rtbackup.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Agent#watch()} needs no Kafka (rtb up calls it before its broker is up, issue 18): with nothing listening
 * at the bootstrap address it returns at once, and a change made right then is published once the broker, its
 * topics and the rest of the agent ({@link Agent#start()}) are there. The start-up rescan is off, so only capture
 * can publish the change. A real broker in a child JVM, started late on the ports the agent was given.
 */
class AgentWatchBeforeKafkaTest {
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @AfterEach
    void noPartGaveUp() {
        fatal.assertNone();
    }

    @Test
    void anAgentWatchesWithoutKafkaAndPublishesWhatItCapturedOnceKafkaIsThere(@TempDir Path brokerDir)
            throws Exception {
        BrokerSettings settings = BrokerSettings.onFreePorts(brokerDir); // nothing listens there yet
        Topics topics = Topics.withPrefix("watch-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        KafkaBroker broker = null;
        try (TempDirs tmp = TempDirs.create("rtb-watch")) {
            byte[] root = tmp.newDir("root");
            Properties p = new Properties();
            p.setProperty("host.id", "host-watch");
            p.setProperty("root.r1.path", new String(root, StandardCharsets.UTF_8));
            p.setProperty("capture.source", "fanotify");
            p.setProperty("capture.startup-rescan", "false");
            p.setProperty("kafka.bootstrap.servers", settings.bootstrapServers());
            p.setProperty("destination.d.url", "rsync://127.0.0.1:1/unused");
            p.setProperty("state.dir", tmp.pathString() + "/state");
            try (Agent agent = Agent.create(AgentConfig.from(p, Map.of()), topics, new PrometheusRegistry(), fatal)) {
                long t0 = System.nanoTime();
                agent.watch();
                long watchMs = (System.nanoTime() - t0) / 1_000_000;
                assertThat(watchMs).as("watch() waited for no Kafka client (ms)").isLessThan(10_000);
                assertThat(agent.capture().source()).isNotNull();
                ByteFs.write(BytePaths.join(root, BytePaths.utf8("made-while-kafka-was-away")), BytePaths.utf8("x"));

                broker = ChildJvmKafkaBroker.start(settings);
                TopicProvisioner.ensure(broker.bootstrapServers(), topics);
                agent.start();
                assertThat(readUntilPath(broker, topics, "made-while-kafka-was-away", Duration.ofSeconds(90)))
                    .as("the change captured before Kafka was up, published after").isTrue();
            }
        } finally {
            if (broker != null) broker.close();
        }
    }

    private static boolean readUntilPath(KafkaBroker broker, Topics topics, String path, Duration timeout) {
        AvroCodec<FileEvent> codec = AvroCodec.fileEvents();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topics.events()).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            List<String> seen = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    ByteBuffer bb = codec.decode(r.value()).getPath().duplicate();
                    byte[] b = new byte[bb.remaining()];
                    bb.get(b);
                    String got = new String(b, StandardCharsets.UTF_8);
                    if (got.equals(path)) return true;
                    seen.add(got);
                }
            }
            throw new AssertionError("no event for " + path + " within " + timeout + "; saw " + seen);
        }
    }
}
