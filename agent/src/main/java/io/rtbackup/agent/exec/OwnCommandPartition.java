package io.rtbackup.agent.exec;

import io.rtbackup.topics.AgentGroup;
import io.rtbackup.topics.CommandPartitions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one partition of the commands topic a host reads, on the executor's consumer: which one
 * ({@link CommandPartitions#of} for the topic's partition count), where reading starts, and the move to another
 * partition when the topic grows with the fleet. Used by the executor's poll thread only.
 *
 * <p>Start: the position committed for the host's group ({@link AgentGroup}), or the end of the partition the very
 * first time (committed at once, so a restart resumes there). Growth: every {@value #CHECK_S} s the partition count
 * in the consumer's metadata is compared with the one in use; once no command of the old partition is in flight,
 * the position there is committed and reading moves to the new partition, at the group's committed position or else
 * at its beginning. The topic only doubles, so a partition a host moves to is new: everything in it was written
 * since the topic grew, and commands the worker sent there before the agent noticed are run, not skipped.
 */
final class OwnCommandPartition {
    private static final Logger log = LoggerFactory.getLogger(OwnCommandPartition.class);
    static final int CHECK_S = 30;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String hostId;
    private final String topic;
    private final Consumer<byte[], byte[]> consumer;
    private final Clock clock;
    private TopicPartition current;
    private int count;
    private long nextCheckMs;

    OwnCommandPartition(String hostId, String topic, Consumer<byte[], byte[]> consumer, Clock clock) {
        this.hostId = hostId;
        this.topic = topic;
        this.consumer = consumer;
        this.clock = clock;
    }

    /** One metadata read; assigns the host's partition, or empty when the topic does not exist (yet). */
    Optional<TopicPartition> assign() {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
        if (infos == null || infos.isEmpty()) return Optional.empty();
        count = infos.size();
        current = new TopicPartition(topic, CommandPartitions.of(hostId, count));
        consumer.assign(List.of(current));
        nextCheckMs = clock.millis() + CHECK_S * 1000L;
        log.info("host {}: reading commands from {} ({} partitions)", hostId, current, count);
        return Optional.of(current);
    }

    /** The partition read now; null before {@link #assign}. */
    TopicPartition current() {
        return current;
    }

    /** Positions the assigned partition where this host's group left off (see the class comment); the offset. */
    long positionAtStart() {
        OffsetAndMetadata at = consumer.committed(Set.of(current), TIMEOUT).get(current);
        if (at != null) {
            consumer.seek(current, at.offset());
            log.info("host {}: resuming commands at committed offset {} of {}", hostId, at.offset(), current);
            return at.offset();
        }
        consumer.seekToEnd(List.of(current));
        long end = consumer.position(current, TIMEOUT);
        // Commit right away so a restart resumes here rather than at a later end.
        consumer.commitSync(Map.of(current, new OffsetAndMetadata(end)), TIMEOUT);
        log.info("host {}: no committed position for group {}; starting at the end of {} (offset {})", hostId,
            AgentGroup.of(hostId), current, end);
        return end;
    }

    /**
     * The periodic check for growth (a no-op between checks). Moves when the host maps elsewhere and
     * {@code inFlight} is 0, committing {@code next} (the offset after the last one read) on the old partition.
     *
     * @return the offset reading continues at in the new partition, or empty when it stays
     */
    OptionalLong follow(int inFlight, long next) {
        if (clock.millis() < nextCheckMs) return OptionalLong.empty();
        nextCheckMs = clock.millis() + CHECK_S * 1000L;
        int now;
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) return OptionalLong.empty();
            now = infos.size();
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            log.debug("host {}: cannot read the partition count of '{}', checking again later: {}", hostId, topic,
                e.toString());
            return OptionalLong.empty();
        }
        int wanted = CommandPartitions.of(hostId, now);
        if (now == count || wanted == current.partition()) {
            count = now;
            return OptionalLong.empty();
        }
        if (inFlight > 0) {
            // their offsets are the old partition's, needed for its commits: move once they are done
            log.info("host {}: {} now has {} partitions (host maps to {}); moving once {} command(s) in flight finish",
                hostId, topic, now, wanted, inFlight);
            nextCheckMs = clock.millis();
            return OptionalLong.empty();
        }
        consumer.commitSync(Map.of(current, new OffsetAndMetadata(next)), TIMEOUT);
        TopicPartition from = current;
        current = new TopicPartition(topic, wanted);
        count = now;
        consumer.assign(List.of(current));
        OffsetAndMetadata at = consumer.committed(Set.of(current), TIMEOUT).get(current);
        if (at != null) consumer.seek(current, at.offset());
        else consumer.seekToBeginning(List.of(current));
        long position = consumer.position(current, TIMEOUT);
        // a restart before the next commit must resume here, not at the end (see positionAtStart)
        consumer.commitSync(Map.of(current, new OffsetAndMetadata(position)), TIMEOUT);
        log.info("host {}: {} grew to {} partitions; reading commands from {} (was {}) at offset {}", hostId, topic,
            now, current, from, position);
        return OptionalLong.of(position);
    }
}
