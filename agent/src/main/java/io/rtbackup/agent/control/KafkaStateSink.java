package io.rtbackup.agent.control;

import io.rtbackup.agent.transport.HandOff;
import io.rtbackup.agent.transport.ProducerFailure;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.rtbackup.schema.signing.RecordSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the agent's {@link RootControlState}s to the compacted root-state topic, keyed {@code <host>/<root>}. A
 * state that cannot be delivered (after the producer's own retries) is logged and dropped: the pause itself is
 * applied and stored in the state directory; only what {@code rtb status} shows is older, until the next change or
 * start republishes it. A failure no later record gets past ({@link ProducerFailure}) ends the process instead.
 *
 * <p>Sends through the agent's shared producer, which it never closes, waiting up to a patience while the producer has
 * no metadata ({@link HandOff}: a restarting broker), as its own producer did before the producer was shared.
 */
public final class KafkaStateSink implements StateSink {
    private static final Logger log = LoggerFactory.getLogger(KafkaStateSink.class);

    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final RecordSigner signer;
    private final FatalErrorHandler fatal;
    private final Duration patience;
    private final AvroCodec<RootControlState> codec = AvroCodec.rootControlStates();

    /**
     * @param producer the agent's producer (byte arrays, idempotent); not closed here
     * @param signer   signs each state with this host's key
     */
    public KafkaStateSink(Topics topics, Producer<byte[], byte[]> producer, RecordSigner signer,
            FatalErrorHandler fatal) {
        this(topics, producer, signer, fatal, HandOff.PATIENCE);
    }

    /** @param patience how long a state waits for the producer to take it (no metadata, no room) */
    public KafkaStateSink(Topics topics, Producer<byte[], byte[]> producer, RecordSigner signer,
            FatalErrorHandler fatal, Duration patience) {
        this.patience = patience;
        this.signer = signer;
        this.topic = topics.rootState();
        this.producer = producer;
        this.fatal = fatal;
    }

    @Override
    public void publish(RootControlState s) {
        try {
            byte[] key = ControlKey.of(s.getHostId(), s.getRootId());
            byte[] value = codec.encode(s);
            Exception refused = HandOff.send(producer, new ProducerRecord<>(topic, null, key, value,
                signer.sign(topic, key, value)), (md, ex) -> {
                    if (ex != null) notDelivered(s, ex);
                }, patience);
            if (refused != null) notDelivered(s, refused);
        } catch (RuntimeException e) {
            notDelivered(s, e);
        }
    }

    private void notDelivered(RootControlState s, Exception e) {
        if (ProducerFailure.isFatal(e)) {
            fatal.fatal("root state sink of host " + s.getHostId(),
                new IllegalStateException(ProducerFailure.advice(e), e));
            return;
        }
        log.warn("host {} root {}: its pause state (paused={}) did not reach {} ({}); `rtb status` shows it after the "
            + "next change or start", s.getHostId(), s.getRootId(), s.getPaused(), topic, e.toString());
    }

    /** Nothing to release: the producer is the agent's. */
    @Override
    public void close() {
    }
}
