package io.rtbackup.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the whole DLQ topic once, as it stands when reading starts: every partition from its beginning up to the end
 * offset seen then, in offset order per partition. No consumer group: nothing is committed, so reading changes
 * nothing for anyone else. Kafka unreachable, the topic missing, or the end not reached within the timeout is
 * {@link Unavailable}.
 */
final class DeadLetterTopicReader {

    /** The DLQ cannot be read now; the message says why in the operator's terms. */
    static final class Unavailable extends Exception {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private DeadLetterTopicReader() {
    }

    static List<StoredDeadLetter> readAll(KafkaAccess kafka, String topic, Duration timeout) throws Unavailable {
        Map<String, Object> props = new HashMap<>(kafka.clientProperties());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-dlq");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new Unavailable("topic " + topic + " does not exist at " + kafka.bootstrapServers()
                    + " (wrong --topic-prefix, or the topics were never created)", null);
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            List<StoredDeadLetter> out = new ArrayList<>();
            while (!reachedEnd(consumer, end)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new Unavailable("reading " + topic + " at " + kafka.bootstrapServers() + " did not reach "
                        + "its end within " + timeout.toSeconds() + " s (raise --timeout-s)", null);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofNanos(Math.min(left, 500_000_000L)))) {
                    Long stop = end.get(new TopicPartition(r.topic(), r.partition()));
                    if (stop != null && r.offset() < stop) out.add(StoredDeadLetter.from(r));
                }
            }
            return out;
        } catch (KafkaException e) {
            throw new Unavailable("cannot read " + topic + " from Kafka at " + kafka.bootstrapServers() + ": " + e
                + " (is --bootstrap-servers right and the broker up?)", e);
        }
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }
}
