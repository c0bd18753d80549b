package io.rtbackup.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker SIGKILLed and started again on its log dir does not wait for the dead incarnation's broker session
 * ({@link PreviousIncarnation}), and comes back with every acknowledged record, its committed offsets and a leader
 * for every partition.
 *
 * <p>The restart runs with a 120 s broker session: a restart that waits for the dead registration's session cannot
 * pass (Kafka gives up the broker's first registration after 60 s, {@code initial.broker.registration.timeout.ms}).
 */
class BrokerCrashRestartTest {
    private static final int RECORDS = 200;

    @Test
    void aKilledBrokerRestartsWithoutWaitingForTheDeadIncarnationsSessionAndKeepsItsData(@TempDir Path dir)
            throws Exception {
        Topics topics = Topics.defaults();
        ChildJvmKafkaBroker first = ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(dir));
        try {
            TopicProvisioner.ensure(first.bootstrapServers(), topics);
            produce(first, topics.events(), RECORDS);
            commit(first, topics.events(), RECORDS);
        } finally {
            first.kill(); // SIGKILL: the metadata log keeps its registration as a live broker's
        }

        BrokerSettings free = BrokerSettings.onFreePorts(dir);
        BrokerSettings again = new BrokerSettings(dir, free.port(), free.controllerPort(),
            Map.of("broker.session.timeout.ms", "120000"));
        long start = System.nanoTime();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(again)) {
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("broker crash restart: up %d ms after the start (120 s broker session)%n", ms);
            assertThat(ms).as("restart after a SIGKILL, ms").isLessThan(50_000);

            assertThat(leaders(broker, topics.events())).as("leader of each partition").containsOnly(1);
            List<String> read = readAll(broker, topics.events(), RECORDS);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) expected.add("r" + i);
            assertThat(read).as("records acknowledged before the kill").isEqualTo(expected);
            assertThat(committed(broker, topics.events())).as("committed offset").isEqualTo(RECORDS);
        }
    }

    private static void produce(KafkaBroker broker, String topic, int n) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                 new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("r" + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
            producer.send(new ProducerRecord<>(topic, 1, null, new byte[0])).get(); // acknowledged after the rest
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static void commit(KafkaBroker broker, String topic, long offset) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker, "crash-restart-test")) {
            c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(offset)));
        }
    }

    private static long committed(KafkaBroker broker, String topic) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker, "crash-restart-test")) {
            TopicPartition tp = new TopicPartition(topic, 0);
            OffsetAndMetadata o = c.committed(Set.of(tp), Duration.ofSeconds(30)).get(tp);
            return o == null ? -1 : o.offset();
        }
    }

    private static List<Integer> leaders(KafkaBroker broker, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                List<Integer> leaders = new ArrayList<>();
                for (TopicPartitionInfo p : d.partitions()) leaders.add(p.leader() == null ? -1 : p.leader().id());
                if (!leaders.contains(-1) || System.nanoTime() > deadline) return leaders;
                Thread.sleep(100);
            }
        }
    }

    private static List<String> readAll(KafkaBroker broker, String topic, int n) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(broker, null)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(new String(r.value(), StandardCharsets.UTF_8)));
            }
            return out;
        }
    }
}
