package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's producer settings ({@link ProducerSettings#properties}) against a real broker (child JVM): every
 * record sent to a partition that was just created is delivered. A broker before Kafka 4.5 takes any first sequence
 * from a producer it has no state for (KAFKA-15591): with several requests in flight, the first produce to a new
 * partition can fail NOT_LEADER_OR_FOLLOWER while the one behind it lands, and the first is then refused
 * OUT_OF_ORDER_SEQUENCE_NUMBER until it expires. That lost buffered events of an agent started before its topics
 * existed (PublisherBrokerDownTest: "early5" was covered by the RESCAN instead of being published).
 */
class FreshPartitionDeliveryTest {

    @Test
    void everyRecordSentToJustCreatedPartitionsIsDelivered(@TempDir Path dir) throws Exception {
        try (KafkaBroker broker = ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(dir));
                Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            // short timeouts only so that a lost record shows within seconds; the race does not depend on them
            Properties p = ProducerSettings.properties(Map.of("bootstrap.servers", broker.bootstrapServers(),
                "request.timeout.ms", "4000", "delivery.timeout.ms", "8000"), "fresh");
            AtomicInteger sent = new AtomicInteger();
            Map<String, Integer> failed = new ConcurrentHashMap<>();
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (int t = 0; t < 10; t++) {
                    String topic = "fresh-" + t;
                    admin.createTopics(List.of(new NewTopic(topic, 12, (short) 1))).all().get();
                    // right away, as a buffer of held events goes out: records to every partition for 400 ms
                    long end = System.nanoTime() + 400_000_000L;
                    while (System.nanoTime() - end < 0) {
                        for (int partition = 0; partition < 12; partition++) {
                            sent.incrementAndGet();
                            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, partition, new byte[8],
                                new byte[100]);
                            // refused at send (no metadata yet within max.block.ms): the publisher keeps such an
                            // event and sends it again, so this does too; only what the producer took counts
                            while (!handed(producer, r, failed)) Thread.sleep(50);
                        }
                        Thread.sleep(2);
                    }
                }
                producer.flush();
            }
            assertThat(failed).as("records taken by the producer but not delivered, by error, of %d", sent.get())
                .isEmpty();
        }
    }

    /** Sends {@code r}; false when the producer refused it at once (its callback ran on this thread). */
    private static boolean handed(KafkaProducer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> r,
            Map<String, Integer> failed) {
        Thread caller = Thread.currentThread();
        boolean[] refused = new boolean[1];
        producer.send(r, (md, e) -> {
            if (e == null) return;
            if (Thread.currentThread() == caller) {
                refused[0] = true;
            } else {
                String what = e.toString();
                failed.merge(what.substring(0, Math.min(what.length(), 120)), 1, Integer::sum);
            }
        });
        return !refused[0];
    }
}
