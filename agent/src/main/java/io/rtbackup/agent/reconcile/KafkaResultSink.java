package io.rtbackup.agent.reconcile;

import io.rtbackup.agent.exec.CommandExecutor;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
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
 * Publishes reconciliation results on the results topic, keyed by host id, for {@code rtb status} and the status
 * page. A result that cannot be delivered (after the producer's own retries) is logged and dropped: the
 * reconciliation itself is done and its differences are in the log line and the metrics; only its line in the
 * status is missing, until the next one.
 */
public final class KafkaResultSink implements ResultSink {
    private static final Logger log = LoggerFactory.getLogger(KafkaResultSink.class);

    private final String hostId;
    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final RecordSigner signer;
    private final AvroCodec<SyncResult> codec = AvroCodec.syncResults();

    KafkaResultSink(String hostId, String topic, Producer<byte[], byte[]> producer, RecordSigner signer) {
        this.signer = signer;
        this.hostId = hostId;
        this.topic = topic;
        this.producer = producer;
    }

    /** A producer of its own from the agent's Kafka settings, configured like the executor's result producer. */
    public static KafkaResultSink create(String hostId, Topics topics, Map<String, Object> kafka) {
        return create(hostId, topics, kafka, RecordSigner.NONE);
    }

    /** As above, signing each result with this host's key ({@code signer}). */
    public static KafkaResultSink create(String hostId, Topics topics, Map<String, Object> kafka, RecordSigner signer) {
        Map<String, Object> p = new HashMap<>(kafka);
        p.putAll(CommandExecutor.producerProperties(hostId));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "rtb-agent-reconcile-" + hostId);
        return new KafkaResultSink(hostId, topics.results(), new KafkaProducer<>(p), signer);
    }

    @Override
    public void publish(SyncResult result) {
        byte[] key = hostId.getBytes(StandardCharsets.UTF_8);
        try {
            byte[] value = codec.encode(result);
            producer.send(new ProducerRecord<>(topic, null, key, value, signer.sign(topic, key, value)), (md, ex) -> {
                if (ex != null) notDelivered(result, ex);
            });
        } catch (RuntimeException e) {
            notDelivered(result, e);
        }
    }

    private void notDelivered(SyncResult r, Exception e) {
        log.warn("reconciliation {} host={} root={} destination={}: its result did not reach {} ({}); the status "
            + "will not show it, the metrics and this log do", r.getCommandId(), hostId, r.getRootId(),
            r.getDestination(), topic, e.toString());
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
