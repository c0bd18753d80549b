package io.rtbackup.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded mode resumes where it stopped: same log dir, same data, even on other ports. */
class BrokerRestartTest {

    @Test
    void theLogDirItCreatesIsItsOwnersAlone(@TempDir Path dir) throws Exception {
        Path logDir = dir.resolve("state/kafka");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(logDir))) {
            assertThat(broker.bootstrapServers()).isNotBlank();
        }
        for (Path d : new Path[] {dir.resolve("state"), logDir}) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)))
                .as(d.toString()).isEqualTo("rwx------");
        }
    }

    @Test
    void aRestartedBrokerKeepsItsRecordsAndCommittedOffsets(@TempDir Path dir) throws Exception {
        Topics topics = Topics.defaults();
        BrokerSettings first = BrokerSettings.onFreePorts(dir);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(first)) {
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            produce(broker, topics.events(), "before-restart");
            commit(broker, topics.events(), 1);
        }
        assertThat(dir.resolve("meta.properties")).exists();
        String clusterId = Files.readString(dir.resolve("meta.properties"));

        BrokerSettings second = BrokerSettings.onFreePorts(dir);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(second)) {
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            assertThat(readAll(broker, topics.events())).containsExactly("before-restart");
            assertThat(committed(broker, topics.events())).isEqualTo(1);
        }
        assertThat(Files.readString(dir.resolve("meta.properties"))).isEqualTo(clusterId);
    }

    @Test
    void aBusyPortGivesAnErrorNamingPortAndLogDir(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            BrokerSettings settings = new BrokerSettings(dir, taken.getLocalPort(), BrokerSettings.freePort(), Map.of());
            assertThatThrownBy(() -> EmbeddedKafkaBroker.start(settings))
                .isInstanceOf(BrokerStartException.class)
                .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                .hasMessageContaining(dir.toString());
        }
    }

    private static void produce(KafkaBroker broker, String topic, String value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, 0, null, value.getBytes())).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "restart-test");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static void commit(KafkaBroker broker, String topic, long offset) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker)) {
            c.commitSync(Map.of(new TopicPartition(topic, 0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)));
        }
    }

    private static long committed(KafkaBroker broker, String topic) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            return c.committed(java.util.Set.of(tp)).get(tp).offset();
        }
    }

    private static List<String> readAll(KafkaBroker broker, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (out.isEmpty() && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(new String(r.value())));
            }
            return out;
        }
    }
}
