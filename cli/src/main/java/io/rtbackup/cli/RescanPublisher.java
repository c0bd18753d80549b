package io.rtbackup.cli;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes {@code RESCAN} events for a {@link ReplayTarget} to the events topic, keyed by {@link EventKey} as an
 * agent keys its own: one per path, or one for the root (empty path) when the target is the whole root.
 * {@link #publish} returns only once Kafka acknowledged every event, or throws {@link Failed}. A RESCAN is a hint
 * (replication is state-based), so publishing the same target again only syncs it again. The events carry
 * source {@code UNKNOWN} and seq 0: they come from no agent's capture sequence.
 */
final class RescanPublisher implements AutoCloseable {

    /** Kafka did not take an event; some of the target's events may have been published. */
    static final class Failed extends Exception {
        Failed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final Duration timeout;
    private final LongSupplier epochNanos;
    private final AvroCodec<FileEvent> codec = AvroCodec.fileEvents();
    private final RecordSigner signer;

    RescanPublisher(KafkaAccess kafka, String topic, Duration timeout, LongSupplier epochNanos) {
        this(kafka, topic, timeout, epochNanos, RecordSigner.NONE);
    }

    /** @param signer signs each RESCAN (workers with a keyring take one signed by any key of it) */
    RescanPublisher(KafkaAccess kafka, String topic, Duration timeout, LongSupplier epochNanos, RecordSigner signer) {
        this.signer = signer;
        Map<String, Object> props = new HashMap<>(kafka.clientProperties());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "rtb-dlq-replay");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis());
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        this.producer = new KafkaProducer<>(props);
        this.topic = topic;
        this.timeout = timeout;
        this.epochNanos = epochNanos;
    }

    /** The events {@link #publish} sends for {@code target}, in order. */
    List<FileEvent> events(ReplayTarget target) {
        List<byte[]> paths = target.wholeRoot() ? List.of(new byte[0]) : target.paths();
        List<FileEvent> out = new ArrayList<>(paths.size());
        long now = epochNanos.getAsLong();
        for (byte[] p : paths) {
            // incarnation 0: an unknown capture position, which no sync result covers, so the worker always syncs it
            out.add(new FileEvent(target.hostId(), target.rootId(), ByteBuffer.wrap(p), FileOp.RESCAN, p.length == 0,
                null, CaptureSource.UNKNOWN, 0L, now, null, null, null, 0L));
        }
        return out;
    }

    void publish(ReplayTarget target) throws Failed {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try {
            for (FileEvent e : events(target)) {
                byte[] path = new byte[e.getPath().remaining()];
                e.getPath().duplicate().get(path);
                byte[] key = EventKey.of(e.getHostId(), e.getRootId(), path);
                byte[] value = codec.encode(e);
                acks.add(producer.send(new ProducerRecord<>(topic, null, key, value, signer.sign(topic, key, value))));
            }
            for (Future<RecordMetadata> f : acks) f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (KafkaException | TimeoutException e) {
            throw new Failed("Kafka did not take the RESCAN events for " + target.hostId() + ":" + target.rootId()
                + " on " + topic + ": " + e, e);
        } catch (ExecutionException e) {
            throw new Failed("Kafka did not take the RESCAN events for " + target.hostId() + ":" + target.rootId()
                + " on " + topic + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while publishing to " + topic, e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
