package io.rtbackup.agent.transport;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The settings of the agent's Kafka producer: made for events ({@link EventPublisher}), and carrying everything
 * else the agent publishes through its {@link SharedProducer} (command results, root states, reconciliation
 * results). Idempotent, {@code acks=all}, uncompressed (the broker compresses, see below), no linger, small batches
 * in a bounded pool, a short block, one request in flight per broker; the config's {@code kafka.*} settings go on top.
 */
public final class ProducerSettings {
    /** {@code linger.ms}: none (see {@link #properties}). */
    static final int LINGER_MS = 0;

    private ProducerSettings() {
    }

    /** The settings; {@code kafka} (TLS, SASL, bootstrap...) is applied on top. */
    public static Properties properties(Map<String, String> kafka, String hostId) {
        Properties p = new Properties();
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // Not compressed here: the topics are lz4 (broker-config's topics.properties), so the broker compresses
        // what it stores and what the workers read. At the agent's usual rates a batch holds one or two events, and
        // lz4 on the agent allocated two 64 KiB block buffers per batch (about 7 MB/s of garbage at 100 changes/s on
        // a 8-64 MiB heap: 51 young collections in 30 s) to shrink 200 bytes by next to nothing. The cost moves to
        // the broker and the link to it carries events uncompressed (a storm: some 3x the bytes);
        // kafka.compression.type=lz4 in the agent's config turns it back on.
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        // No linger: at the agent's usual rates a record has nothing to wait for (at 100 events/s a 10 ms linger
        // batched nothing), and every command result waited it out on the way back to the worker, once per command
        // cycle (issue 18's latency: ~10 ms of a ~50 ms cycle). Under a storm the producer batches anyway: with one
        // request in flight (below), whatever arrives meanwhile goes out together in the next request.
        p.put(ProducerConfig.LINGER_MS_CONFIG, String.valueOf(LINGER_MS));
        // Events are keyed by path, so a batch per partition (12) fills at once; the producer keeps every batch
        // buffer it ever allocated (up to buffer.memory) for reuse. 256 KiB batches left 45 of them (11 MiB) on
        // the agent's heap at 100 changes/s; 64 KiB (some 300 events per partition and linger) and a 4 MiB pool
        // bound that, and still carry 200k events/s to a broker that keeps up (a slower one makes the sender
        // wait, then the event publisher's buffer logic decides).
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(64 * 1024));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(4L << 20));
        // a blocked send stalls the sender thread, not capture; keep it short so the event publisher's
        // buffer logic decides
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "2000");
        // One request in flight per broker, so a partition's batches reach the broker in sequence order. With more,
        // the first produce to a just-created partition (a topic made after the agent started, partitions added)
        // can fail NOT_LEADER_OR_FOLLOWER while the next, sent behind it, lands once the broker has the partition:
        // brokers before Kafka 4.5 accept any first sequence from a producer they have no state for (KAFKA-15591),
        // so every retry of the first is then OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms (120 s)
        // expires it. Measured (FreshPartitionDeliveryTest's sends, 15 new topics): 5 in flight lost 156 and 441 of
        // some 22,000 records, 1 in flight none. The event publisher would cover them with a RESCAN, two minutes late,
        // while the events themselves were buffered to be published.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "rtb-agent-" + hostId);
        p.putAll(kafka);
        return p;
    }

    /** A producer of byte arrays with {@link #properties}. */
    public static KafkaProducer<byte[], byte[]> create(Map<String, String> kafka, String hostId) {
        return new KafkaProducer<>(properties(kafka, hostId), new ByteArraySerializer(), new ByteArraySerializer());
    }
}
