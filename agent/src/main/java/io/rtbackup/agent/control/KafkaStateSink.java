package io.rtbackup.agent.control;

import io.rtbackup.agent.exec.CommandExecutor;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.rtbackup.schema.signing.RecordSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the agent's {@link RootControlState}s to the compacted root-state topic, keyed {@code <host>/<root>}. A
 * state that cannot be delivered (after the producer's own retries) is logged and dropped: the pause itself is
 * applied and stored in the state directory; only what {@code rtb status} shows is older, until the next change or
 * start republishes it.
 */
public final class KafkaStateSink implements StateSink {
    private static final Logger log = LoggerFactory.getLogger(KafkaStateSink.class);

    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final RecordSigner signer;
    private final AvroCodec<RootControlState> codec = AvroCodec.rootControlStates();

    KafkaStateSink(String topic, Producer<byte[], byte[]> producer, RecordSigner signer) {
        this.signer = signer;
        this.topic = topic;
        this.producer = producer;
    }

    /** A producer of its own from the agent's Kafka settings, configured like the executor's result producer. */
    public static KafkaStateSink create(String hostId, Topics topics, Map<String, Object> kafka) {
        return create(hostId, topics, kafka, RecordSigner.NONE);
    }

    /** As above, signing each state with this host's key ({@code signer}). */
    public static KafkaStateSink create(String hostId, Topics topics, Map<String, Object> kafka, RecordSigner signer) {
        Map<String, Object> p = new HashMap<>(kafka);
        p.putAll(CommandExecutor.producerProperties(hostId));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "rtb-agent-control-" + hostId);
        return new KafkaStateSink(topics.rootState(), new KafkaProducer<>(p), signer);
    }

    @Override
    public void publish(RootControlState s) {
        try {
            byte[] key = ControlKey.of(s.getHostId(), s.getRootId());
            byte[] value = codec.encode(s);
            producer.send(new ProducerRecord<>(topic, null, key, value, signer.sign(topic, key, value)),
                (md, ex) -> {
                    if (ex != null) notDelivered(s, ex);
                });
        } catch (RuntimeException e) {
            notDelivered(s, e);
        }
    }

    private void notDelivered(RootControlState s, Exception e) {
        log.warn("host {} root {}: its pause state (paused={}) did not reach {} ({}); `rtb status` shows it after the "
            + "next change or start", s.getHostId(), s.getRootId(), s.getPaused(), topic, e.toString());
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
