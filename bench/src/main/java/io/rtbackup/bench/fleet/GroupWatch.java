package io.rtbackup.bench.fleet;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;

/**
 * What the broker says about a destination's consumer group on the events topic: committed offsets (what the
 * workers finished), lag (end offsets minus committed) and the group's state and members (for rebalance times).
 */
final class GroupWatch {
    private final Admin admin;
    private final String group;
    private final String eventsTopic;

    GroupWatch(Admin admin, String group, String eventsTopic) {
        this.admin = admin;
        this.group = group;
        this.eventsTopic = eventsTopic;
    }

    /** The group's committed offsets summed over the events partitions. */
    long committed() {
        return get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).values().stream()
            .filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
    }

    /** End offsets of the events topic, summed. */
    long end() {
        List<TopicPartition> parts = get(admin.describeTopics(List.of(eventsTopic)).allTopicNames()).get(eventsTopic)
            .partitions().stream().map(p -> new TopicPartition(eventsTopic, p.partition())).toList();
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
            get(admin.listOffsets(parts.stream().collect(java.util.stream.Collectors.toMap(p -> p,
                p -> OffsetSpec.latest()))).all());
        return ends.values().stream().mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
    }

    long lag() {
        return end() - committed();
    }

    /** A snapshot of the group: its state and how many members hold at least one partition. */
    record Shape(GroupState state, int members, int membersWithPartitions, int partitions) {
        boolean stableWith(int n) {
            return state == GroupState.STABLE && members == n && membersWithPartitions == n;
        }
    }

    Shape shape() {
        ConsumerGroupDescription d = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
        int withParts = 0;
        int parts = 0;
        for (var m : d.members()) {
            int n = m.assignment().topicPartitions().size();
            if (n > 0) withParts++;
            parts += n;
        }
        return new Shape(d.groupState(), d.members().size(), withParts, parts);
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> f) {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("admin request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
