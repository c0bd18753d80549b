package io.rtbackup.worker.transport;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.topics.CommandPartitions;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Commands (signed), dead letters and status records through one shared, idempotent producer. Thread-safe. */
public final class KafkaTransport implements CommandSink, DeadLetterSink, StatusSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaTransport.class);
    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    private final String workerId;
    private final AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
    private final RecordSigner signer;

    public KafkaTransport(String bootstrapServers, Topics topics, String workerId, Map<String, String> overrides) {
        this(bootstrapServers, topics, workerId, overrides, RecordSigner.NONE);
    }

    /** @param signer signs every command with this worker's key (agents run only commands their keyring verifies) */
    public KafkaTransport(String bootstrapServers, Topics topics, String workerId, Map<String, String> overrides,
                          RecordSigner signer) {
        this.signer = signer;
        Map<String, Object> props = new HashMap<>(overrides);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "rtb-worker-" + workerId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Latency matters more than batching: a command is one small record, send it at once.
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        // A send blocks the pipeline thread while metadata is missing; fail fast and retry instead.
        props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        // A command of batch-max-paths long paths can exceed the 1 MiB default; the commands topic takes 8 MiB.
        props.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        this.producer = new KafkaProducer<>(props);
        this.topics = topics;
        this.workerId = workerId;
    }

    @Override
    public void send(SyncCommand command, Consumer<Exception> onFailure) {
        byte[] key = command.getHostId().getBytes(StandardCharsets.UTF_8);
        try {
            // the partition the host's agent reads, for the count this producer's metadata has (CommandPartitions)
            int partition = CommandPartitions.of(command.getHostId(), producer.partitionsFor(topics.commands()).size());
            byte[] value = commands.encode(command);
            producer.send(new ProducerRecord<>(topics.commands(), partition, key, value,
                signer.sign(topics.commands(), key, value)), (md, e) -> {
                if (e != null) onFailure.accept(e);
            });
        } catch (RuntimeException e) {
            onFailure.accept(e);
        }
    }

    @Override
    public void send(DeadLetter letter, Consumer<Exception> onDone) {
        RecordHeaders h = new RecordHeaders();
        header(h, DeadLetter.H_KIND, letter.kind());
        header(h, DeadLetter.H_REASON, letter.reason());
        header(h, DeadLetter.H_DESTINATION, letter.destination());
        header(h, DeadLetter.H_WORKER, workerId);
        header(h, DeadLetter.H_SOURCE_TOPIC, letter.sourceTopic());
        if (letter.sourceTopic() != null) {
            header(h, DeadLetter.H_SOURCE_PARTITION, Integer.toString(letter.sourcePartition()));
            header(h, DeadLetter.H_SOURCE_OFFSET, Long.toString(letter.sourceOffset()));
        }
        header(h, DeadLetter.H_COMMAND_ID, letter.commandId());
        try {
            producer.send(new ProducerRecord<>(topics.dlq(), null, letter.key(), letter.value(), h),
                (md, e) -> onDone.accept(e));
        } catch (RuntimeException e) {
            onDone.accept(e);
        }
    }

    @Override
    public void publishStatus(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topics.status(), key.getBytes(StandardCharsets.UTF_8), value), (md, e) -> {
                // The next interval publishes again; a lost status record only makes the status a little older.
                if (e != null) log.debug("status record {} not published to {}: {}", key, topics.status(), e.toString());
            });
        } catch (RuntimeException e) {
            log.debug("status record {} not published to {}: {}", key, topics.status(), e.toString());
        }
    }

    private static void header(RecordHeaders h, String name, String value) {
        if (value != null) h.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
