package io.rtbackup.worker.transport;

import io.rtbackup.topics.ResultPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions of the results topic one worker reads, on the results listener's consumer: the one its id maps to
 * ({@link ResultPartitions#of}), where every agent writes the results addressed to it, and no other, so what a worker
 * reads follows its own commands, not the fleet. Used by the listener's thread only.
 *
 * <p>Growth: every {@code checkEvery} the partition count in the consumer's metadata (refreshed as often, see
 * {@link ResultListener}) is compared with the one in use.
 * When the topic has grown and the id maps elsewhere, the new partition is read from its beginning (it is new: the
 * topic only doubles, so everything in it was written since it grew), and the old one for {@code keepOld} more, the
 * time an agent's producer takes to notice the new count ({@code metadata.max.age.ms}, 5 minutes by default) with a
 * margin. A result an agent writes to the old partition later still only means a retry (see {@link ResultPartitions}).
 */
final class OwnResultPartitions {
    private static final Logger log = LoggerFactory.getLogger(OwnResultPartitions.class);
    static final Duration CHECK_EVERY = Duration.ofSeconds(30);
    static final Duration KEEP_OLD = Duration.ofMinutes(10);

    private final String workerId;
    private final String topic;
    private final Consumer<byte[], byte[]> consumer;
    private final LongSupplier millis;
    private final long checkEveryMs;
    private final long keepOldMs;
    /** partition read -> when to stop reading it (Long.MAX_VALUE: the current one). */
    private final Map<TopicPartition, Long> reading = new LinkedHashMap<>();
    private int count;
    private long nextCheckMs;

    /** @param millis a monotonic clock in milliseconds */
    OwnResultPartitions(String workerId, String topic, Consumer<byte[], byte[]> consumer, LongSupplier millis,
                        Duration checkEvery, Duration keepOld) {
        this.workerId = workerId;
        this.topic = topic;
        this.consumer = consumer;
        this.millis = millis;
        this.checkEveryMs = checkEvery.toMillis();
        this.keepOldMs = keepOld.toMillis();
    }

    /** Assigns this worker's partition and positions it at its end (results from before are of no use). */
    TopicPartition assignAtEnd() {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(60));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("results topic '" + topic + "' has no partitions; is it created?");
        }
        count = infos.size();
        TopicPartition own = new TopicPartition(topic, ResultPartitions.of(workerId, count));
        reading.put(own, Long.MAX_VALUE);
        consumer.assign(List.of(own));
        consumer.seekToEnd(List.of(own));
        consumer.position(own); // resolve the lazy seek now
        nextCheckMs = millis.getAsLong() + checkEveryMs;
        log.info("worker {}: reading results from {} ({} partitions; results addressed to this worker go there)",
            workerId, own, count);
        return own;
    }

    /** The partitions read now. */
    List<TopicPartition> reading() {
        return List.copyOf(reading.keySet());
    }

    /** The periodic check for growth and for old partitions to let go (a no-op between checks). */
    void follow() {
        long now = millis.getAsLong();
        if (now < nextCheckMs) return;
        nextCheckMs = now + checkEveryMs;
        boolean changed = reading.values().removeIf(until -> until <= now);
        int partitions;
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            partitions = infos == null || infos.isEmpty() ? count : infos.size();
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            log.debug("worker {}: cannot read the partition count of '{}', checking again later: {}", workerId, topic,
                e.toString());
            partitions = count;
        }
        TopicPartition moved = null;
        if (partitions != count) {
            TopicPartition wanted = new TopicPartition(topic, ResultPartitions.of(workerId, partitions));
            if (!reading.containsKey(wanted)) {
                reading.replaceAll((tp, until) -> until == Long.MAX_VALUE ? now + keepOldMs : until);
                reading.put(wanted, Long.MAX_VALUE);
                moved = wanted;
                changed = true;
            }
            count = partitions;
        }
        if (!changed) return;
        List<TopicPartition> parts = new ArrayList<>(reading.keySet());
        consumer.assign(parts); // partitions that stay keep their positions
        if (moved != null) {
            consumer.seekToBeginning(List.of(moved));
            consumer.position(moved);
            log.info("worker {}: {} grew to {} partitions; reading results from {} too (the old one for {} s more)",
                workerId, topic, partitions, moved, keepOldMs / 1000);
        } else {
            log.info("worker {}: reading results from {} only", workerId, parts);
        }
    }
}
