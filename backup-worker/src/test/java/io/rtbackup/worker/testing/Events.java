package io.rtbackup.worker.testing;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.TopicSetupException;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** A test's own topics on the shared broker, with helpers to write events and to look at offsets and the DLQ. */
public final class Events implements AutoCloseable {
    public final Topics topics;
    public final String bootstrap;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private final AvroCodec<FileEvent> codec = AvroCodec.fileEvents();
    private final AtomicLong seq = new AtomicLong();

    public Events(String bootstrap) {
        this.bootstrap = bootstrap;
        this.topics = Topics.withPrefix("t" + UUID.randomUUID().toString().substring(0, 8) + ".");
        provision(bootstrap, topics);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer = new KafkaProducer<>(p);
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(a);
    }

    // TopicProvisioner validates right after creating, and the broker may not know the new topic yet
    // (UnknownTopicOrPartitionException); creating again is idempotent, so try a few times.
    private static void provision(String bootstrap, Topics topics) {
        for (int attempt = 1; ; attempt++) {
            try {
                TopicProvisioner.ensure(bootstrap, topics);
                return;
            } catch (TopicSetupException e) {
                if (attempt == 5) throw e;
                try {
                    Thread.sleep(200L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** A unique destination name (consumer groups are not prefixed, and the broker is shared). */
    public static String uniqueDestination(String base) {
        return base + UUID.randomUUID().toString().substring(0, 6);
    }

    public static String text(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    public RecordMetadata event(String host, String root, String path, FileOp op) {
        return event(host, root, path.getBytes(StandardCharsets.UTF_8), op, false);
    }

    public RecordMetadata event(String host, String root, byte[] path, FileOp op, boolean directory) {
        return raw(host.getBytes(StandardCharsets.UTF_8), encode(host, root, path, op, directory));
    }

    /** Sends without waiting (for load); {@link #flush()} waits for all. */
    public void eventAsync(String host, String root, String path, FileOp op) {
        producer.send(new ProducerRecord<>(topics.events(), host.getBytes(StandardCharsets.UTF_8),
            encode(host, root, path.getBytes(StandardCharsets.UTF_8), op, false)));
    }

    public void flush() {
        producer.flush();
    }

    private byte[] encode(String host, String root, byte[] path, FileOp op, boolean directory) {
        FileEvent e = FileEvent.newBuilder()
            .setHostId(host)
            .setRootId(root)
            .setPath(ByteBuffer.wrap(path))
            .setOp(op)
            .setDirectory(directory)
            .setOtherPath(null)
            .setSource(CaptureSource.INOTIFY)
            .setSeq(seq.incrementAndGet())
            .setEventTimeNs(System.currentTimeMillis() * 1_000_000L)
            .setSize(null)
            .setMtimeNs(null)
            .setInode(null)
            .build();
        return codec.encode(e);
    }

    public RecordMetadata raw(byte[] key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topics.events(), key, value)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topics.events(), e);
        }
    }

    /** Log end offset per partition of the events topic. */
    public Map<TopicPartition, Long> endOffsets() {
        return offsets(OffsetSpec.latest());
    }

    private Map<TopicPartition, Long> offsets(OffsetSpec spec) {
        try {
            Map<TopicPartition, OffsetSpec> req = new HashMap<>();
            int n = admin.describeTopics(List.of(topics.events())).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(topics.events()).partitions().size();
            for (int i = 0; i < n; i++) req.put(new TopicPartition(topics.events(), i), spec);
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listOffsets(req).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
            return out;
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Committed offsets of a destination's group on the events topic (partitions without a commit are absent). */
    public Map<TopicPartition, Long> committed(String destination) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets("rtb-dest-" + destination)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> out = new HashMap<>();
            m.forEach((tp, om) -> {
                if (om != null && tp.topic().equals(topics.events())) out.put(tp, om.offset());
            });
            return out;
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sum over partitions of (log end - committed); a partition without a commit counts its whole log. */
    public long uncommitted(String destination) {
        Map<TopicPartition, Long> c = committed(destination);
        long sum = 0;
        for (Map.Entry<TopicPartition, Long> e : endOffsets().entrySet()) {
            sum += e.getValue() - c.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    /** Deletes records below {@code beforeOffset} in a partition, as retention would. */
    public void deleteRecords(TopicPartition tp, long beforeOffset) {
        try {
            admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(beforeOffset))).all().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Everything on the DLQ topic so far. */
    public List<ConsumerRecord<byte[], byte[]>> deadLetters() {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> k = new KafkaConsumer<>(c)) {
            List<TopicPartition> parts = k.partitionsFor(topics.dlq()).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            k.assign(parts);
            k.seekToBeginning(parts);
            Map<TopicPartition, Long> end = k.endOffsets(parts);
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (parts.stream().anyMatch(tp -> k.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                k.poll(java.time.Duration.ofMillis(100)).forEach(out::add);
            }
            return out;
        }
    }

    public static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** A counter or gauge value from the registry (summed over data points whose labels match). */
    public static double metric(PrometheusRegistry registry, String name, String... labels) {
        String want = strip(name);
        double sum = 0;
        for (MetricSnapshot s : registry.scrape()) {
            if (!strip(s.getMetadata().getPrometheusName()).equals(want)) continue;
            for (DataPointSnapshot d : s.getDataPoints()) {
                boolean match = true;
                for (int i = 0; i < labels.length; i += 2) {
                    if (!labels[i + 1].equals(d.getLabels().get(labels[i]))) match = false;
                }
                if (!match) continue;
                if (d instanceof CounterSnapshot.CounterDataPointSnapshot c) sum += c.getValue();
                else if (d instanceof GaugeSnapshot.GaugeDataPointSnapshot g) sum += g.getValue();
            }
        }
        return sum;
    }

    private static String strip(String n) {
        return n.endsWith("_total") ? n.substring(0, n.length() - "_total".length()) : n;
    }

    public static List<String> paths(Collection<ByteBuffer> bufs) {
        return bufs.stream().map(Events::text).toList();
    }

    @Override
    public void close() {
        producer.close();
        admin.close();
    }
}
