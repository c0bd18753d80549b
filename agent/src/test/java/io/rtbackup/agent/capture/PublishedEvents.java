package io.rtbackup.agent.capture;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What {@link CaptureBenchmark}'s capture process got into Kafka: every event of the events topic read back with
 * a real consumer and decoded, kept as "OP path" and "OP path -> other" strings (paths relative to the root) for
 * the manifest check, restricted to paths under {@code prefix}, and the RESCAN records.
 */
record PublishedEvents(Set<String> keys, long records, long rescans) {

    boolean has(FileOp op, String path) {
        return keys.contains(op + " " + path);
    }

    boolean hasMove(FileOp op, String path, String other) {
        return keys.contains(op + " " + path + " -> " + other);
    }

    /** @param sinceNs RESCAN records captured before this (the warm-up's) are not counted */
    static PublishedEvents read(String bootstrap, String topic, String prefix, long sinceNs) {
        AvroCodec<FileEvent> codec = AvroCodec.fileEvents();
        Set<String> keys = new HashSet<>();
        long records = 0;
        long rescans = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000"), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("reading " + topic + " back took > 300 s");
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    records++;
                    FileEvent e = codec.decode(r.value());
                    if (e.getOp() == FileOp.RESCAN) {
                        if (e.getEventTimeNs() >= sinceNs) rescans++;
                        continue;
                    }
                    String path = text(e.getPath());
                    if (!path.startsWith(prefix)) continue;
                    keys.add(e.getOp() + " " + path);
                    if (e.getOtherPath() != null) keys.add(e.getOp() + " " + path + " -> " + text(e.getOtherPath()));
                }
            }
        }
        return new PublishedEvents(keys, records, rescans);
    }

    private static String text(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
