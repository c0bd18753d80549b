package io.rtbackup.status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The Kafka side of the status: partitions, log start and end offsets, consumer groups and their committed
 * offsets, and ranges of records read with a plain assigned consumer (no group, nothing committed), so reading
 * the status never disturbs a worker. Calls that take a deadline ({@link System#nanoTime} based) fail with a
 * {@link TimeoutException} once it has passed; the others are bounded by the timeout on their own. Failures
 * reach the caller unchanged: {@link StatusReader} turns them into a {@link StatusUnavailableException}.
 * Not thread-safe: one read at a time.
 */
final class LogReader implements AutoCloseable {
    private final Duration timeout;
    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> consumer;

    /** @param kafka extra Kafka client properties (security settings) */
    LogReader(String bootstrapServers, Map<String, String> kafka, Duration timeout) {
        this.timeout = timeout;
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        Map<String, Object> a = new HashMap<>(kafka);
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "rtb-status-admin");
        a.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        a.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        this.admin = Admin.create(a);
        Map<String, Object> c = new HashMap<>(kafka);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-status-reader");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(c);
    }

    /** Milliseconds left until {@code deadline}; throws once it has passed. */
    long remaining(long deadline) throws TimeoutException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) throw new TimeoutException("status read took longer than " + timeout.toSeconds() + " s");
        return ms;
    }

    List<TopicPartition> partitions(String topic) throws ExecutionException, TimeoutException, InterruptedException {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
        return d.partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** The offset {@code spec} (earliest or latest) of each partition. */
    Map<TopicPartition, Long> offsets(Collection<TopicPartition> parts, OffsetSpec spec)
        throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (TopicPartition tp : parts) q.put(tp, spec);
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(q).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /** The ids of all consumer groups, sorted. */
    Set<String> consumerGroups(long deadline) throws ExecutionException, TimeoutException, InterruptedException {
        Set<String> out = new TreeSet<>();
        for (var g : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(remaining(deadline),
            TimeUnit.MILLISECONDS)) {
            out.add(g.groupId());
        }
        return out;
    }

    /**
     * Committed offsets per group on {@code parts}; partitions without a commit are absent, a group that does not
     * exist has an empty map.
     */
    Map<String, Map<TopicPartition, Long>> committed(Set<String> groups, List<TopicPartition> parts, long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        Map<String, Map<TopicPartition, Long>> out = new LinkedHashMap<>();
        if (groups.isEmpty()) return out;
        Map<String, ListConsumerGroupOffsetsSpec> specs = new LinkedHashMap<>();
        for (String g : groups) specs.put(g, new ListConsumerGroupOffsetsSpec().topicPartitions(parts));
        var result = admin.listConsumerGroupOffsets(specs);
        for (String g : groups) {
            Map<TopicPartition, Long> offs = new HashMap<>();
            try {
                Map<TopicPartition, OffsetAndMetadata> m =
                    result.partitionsToOffsetAndMetadata(g).get(remaining(deadline), TimeUnit.MILLISECONDS);
                m.forEach((tp, om) -> {
                    if (om != null && om.offset() >= 0) offs.put(tp, om.offset());
                });
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) throw e;
            }
            out.put(g, offs);
        }
        return out;
    }

    /** Every record from {@code from} (inclusive) to {@code until} (exclusive) per partition, no group involved. */
    List<ConsumerRecord<byte[], byte[]>> read(Map<TopicPartition, Long> from, Map<TopicPartition, Long> until,
                                              long deadline) throws TimeoutException {
        Map<TopicPartition, Long> todo = new HashMap<>();
        for (var e : until.entrySet()) {
            Long f = from.get(e.getKey());
            if (f != null && e.getValue() > f) todo.put(e.getKey(), e.getValue());
        }
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        if (todo.isEmpty()) return out;
        consumer.assign(todo.keySet());
        for (TopicPartition tp : todo.keySet()) consumer.seek(tp, from.get(tp));
        try {
            while (!todo.isEmpty()) {
                remaining(deadline);
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    Long u = todo.get(new TopicPartition(r.topic(), r.partition()));
                    if (u != null && r.offset() < u) out.add(r);
                }
                for (TopicPartition tp : List.copyOf(todo.keySet())) {
                    if (consumer.position(tp, Duration.ofMillis(remaining(deadline))) >= todo.get(tp)) {
                        todo.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                }
            }
        } finally {
            consumer.assign(List.of());
        }
        return out;
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        admin.close(Duration.ofSeconds(5));
    }
}
