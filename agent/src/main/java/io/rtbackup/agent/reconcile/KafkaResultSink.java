package io.rtbackup.agent.reconcile;

import io.rtbackup.agent.transport.HandOff;
import io.rtbackup.agent.transport.ProducerFailure;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.rtbackup.schema.signing.RecordSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes reconciliation results on the results topic, keyed by host id, for {@code rtb status} and the status
 * page. A result that cannot be delivered (after the producer's own retries) is logged and dropped: the
 * reconciliation itself is done and its differences are in the log line and the metrics; only its line in the
 * status is missing, until the next one. A failure no later record gets past ({@link ProducerFailure}) ends the
 * process instead.
 *
 * <p>Sends through the agent's shared producer, which it never closes, waiting up to a patience while the producer has
 * no metadata ({@link HandOff}: a restarting broker), as its own producer did before the producer was shared.
 */
public final class KafkaResultSink implements ResultSink {
    private static final Logger log = LoggerFactory.getLogger(KafkaResultSink.class);

    private final String hostId;
    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final RecordSigner signer;
    private final FatalErrorHandler fatal;
    private final Duration patience;
    private final AvroCodec<SyncResult> codec = AvroCodec.syncResults();

    /**
     * @param producer the agent's producer (byte arrays, idempotent); not closed here
     * @param signer   signs each result with this host's key
     */
    public KafkaResultSink(String hostId, Topics topics, Producer<byte[], byte[]> producer, RecordSigner signer,
            FatalErrorHandler fatal) {
        this(hostId, topics, producer, signer, fatal, HandOff.PATIENCE);
    }

    /** @param patience how long a result waits for the producer to take it (no metadata, no room) */
    public KafkaResultSink(String hostId, Topics topics, Producer<byte[], byte[]> producer, RecordSigner signer,
            FatalErrorHandler fatal, Duration patience) {
        this.patience = patience;
        this.signer = signer;
        this.hostId = hostId;
        this.topic = topics.results();
        this.producer = producer;
        this.fatal = fatal;
    }

    @Override
    public void publish(SyncResult result) {
        byte[] key = hostId.getBytes(StandardCharsets.UTF_8);
        try {
            byte[] value = codec.encode(result);
            Exception refused = HandOff.send(producer, new ProducerRecord<>(topic, null, key, value,
                signer.sign(topic, key, value)), (md, ex) -> {
                    if (ex != null) notDelivered(result, ex);
                }, patience);
            if (refused != null) notDelivered(result, refused);
        } catch (RuntimeException e) {
            notDelivered(result, e);
        }
    }

    private void notDelivered(SyncResult r, Exception e) {
        if (ProducerFailure.isFatal(e)) {
            fatal.fatal("reconciliation result sink of host " + hostId, new IllegalStateException(
                ProducerFailure.advice(e), e));
            return;
        }
        log.warn("reconciliation {} host={} root={} destination={}: its result did not reach {} ({}); the status "
            + "will not show it, the metrics and this log do", r.getCommandId(), hostId, r.getRootId(),
            r.getDestination(), topic, e.toString());
    }

    /** Nothing to release: the producer is the agent's. */
    @Override
    public void close() {
    }
}
