package io.rtbackup.agent.exec;

import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.agent.transport.HandOff;
import io.rtbackup.agent.transport.ProducerFailure;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CapturePosition;
import io.rtbackup.schema.StuckPath;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.signing.RecordSigner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the {@link SyncResult} that answers a command, keyed by its {@code replyTo} and signed with this host's
 * key, and logs and counts it. {@code done} runs once the record is out of the executor's hands: acknowledged,
 * refused by Kafka (the worker retries a command whose result never arrives), or not taken by the producer (then
 * with {@code handed} false). A failure no later result gets past ({@link ProducerFailure}) goes to the
 * {@link FatalErrorHandler}: without it every command would be answered by nothing, forever. Thread-safe (the
 * pools' threads).
 */
final class ResultPublisher {
    private static final Logger log = LoggerFactory.getLogger(ResultPublisher.class);

    /** Told when a result is out of the executor's hands; {@code handed}: whether the producer took it. */
    interface Done {
        void run(boolean handed);
    }

    private final String hostId;
    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final RecordSigner signer;
    private final ExecMetrics metrics;
    private final Clock clock;
    private final BiConsumer<String, byte[][]> answered;
    private final FatalErrorHandler fatal;
    private final Duration patience;
    private final AvroCodec<SyncResult> codec = AvroCodec.syncResults();

    /**
     * @param answered told of every result handed to the producer (command id, {key, value})
     * @param fatal    told of a send failure the producer does not get over
     */
    ResultPublisher(String hostId, String topic, Producer<byte[], byte[]> producer, RecordSigner signer,
                    ExecMetrics metrics, Clock clock, BiConsumer<String, byte[][]> answered,
                    FatalErrorHandler fatal) {
        this(hostId, topic, producer, signer, metrics, clock, answered, fatal, HandOff.PATIENCE);
    }

    /** @param patience how long a result waits for the producer to take it (no metadata, no room) */
    ResultPublisher(String hostId, String topic, Producer<byte[], byte[]> producer, RecordSigner signer,
                    ExecMetrics metrics, Clock clock, BiConsumer<String, byte[][]> answered,
                    FatalErrorHandler fatal, Duration patience) {
        this.fatal = fatal;
        this.patience = patience;
        this.hostId = hostId;
        this.topic = topic;
        this.producer = producer;
        this.signer = signer;
        this.metrics = metrics;
        this.clock = clock;
        this.answered = answered;
    }

    /** @param remember whether a duplicate of {@code cmd} is answered with this result (admitted commands) */
    void publish(SyncCommand cmd, String destLabel, ReplicationReport report, long startedAtMs,
                 CapturePosition position, boolean remember, Done done) {
        SyncOutcome outcome = report.outcome();
        RsyncStats stats = report.stats();
        if (outcome == SyncOutcome.REJECTED) metrics.rejected(destLabel);
        else metrics.finished(destLabel, outcome);
        String line = "command {} host={} root={} destination={}: {} exit={} files={} sent={} literal={} took={}ms{}";
        Object[] args = {cmd.getCommandId(), cmd.getHostId(), cmd.getRootId(), cmd.getDestination(), outcome,
            report.exitCode(), stats.filesTransferred(), stats.bytesSent(), stats.literalBytes(),
            report.duration().toMillis(), report.error().map(e -> " error: " + e).orElse("")};
        if (outcome == SyncOutcome.OK) log.info(line, args);
        else if (outcome != SyncOutcome.REJECTED) log.warn(line, args);

        SyncResult result = SyncResult.newBuilder()
            .setCommandId(cmd.getCommandId())
            .setHostId(cmd.getHostId())
            .setRootId(cmd.getRootId())
            .setDestination(cmd.getDestination())
            .setReplyTo(cmd.getReplyTo())
            .setOutcome(outcome)
            .setExitCode(report.exitCode())
            .setFilesTransferred(stats.filesTransferred())
            .setBytesSent(stats.bytesSent())
            .setLiteralBytes(stats.literalBytes())
            .setDurationMs(report.duration().toMillis())
            .setFinishedAtMs(clock.millis())
            .setError(report.error().orElse(null))
            .setStartedAtMs(startedAtMs)
            .setIncarnation(position.incarnation())
            .setPublishedSeq(position.seq())
            .setFailureSide(report.side())
            .setStuckPaths(report.stuck().stream()
                .map(e -> new StuckPath(ByteBuffer.wrap(e.path()), e.reason())).toList())
            .build();
        byte[] key = cmd.getReplyTo().getBytes(StandardCharsets.UTF_8);
        send(cmd, key, codec.encode(result), remember, done);
    }

    /** Publishes again the result record ({@code key}, {@code value}) that answered {@code cmd} before. */
    void republish(SyncCommand cmd, byte[] key, byte[] value, Done done) {
        log.info("command {} host={} destination={}: read again (a duplicate or a replay); its result is published "
            + "again, rsync does not run", cmd.getCommandId(), hostId, cmd.getDestination());
        send(cmd, key, value, false, done);
    }

    private void send(SyncCommand cmd, byte[] key, byte[] value, boolean remember, Done done) {
        Exception refused;
        try {
            // waits (up to HandOff.PATIENCE) while the producer has no metadata, e.g. while the broker restarts
            refused = HandOff.send(producer, new ProducerRecord<>(topic, null, key, value,
                signer.sign(topic, key, value)), (md, ex) -> {
                    if (ex != null) {
                        fatalIfBroken(ex);
                        // The worker retries a command whose result never arrives; do not hold the position back.
                        log.warn("command {} host={} destination={}: result not published to {}: {}",
                            cmd.getCommandId(), hostId, cmd.getDestination(), topic, ex.toString());
                    }
                    done.run(true);
                }, patience);
        } catch (RuntimeException e) {
            refused = e;
        }
        if (refused == null) {
            if (remember) answered.accept(cmd.getCommandId(), new byte[][] {key, value});
            return;
        }
        fatalIfBroken(refused);
        log.warn("command {} host={} destination={}: cannot publish result to {} (the worker reissues the command "
            + "after its result timeout): {}", cmd.getCommandId(), hostId, cmd.getDestination(), topic,
            refused.toString());
        done.run(false);
    }

    private void fatalIfBroken(Exception e) {
        if (ProducerFailure.isFatal(e)) {
            fatal.fatal("result publisher of host " + hostId, new IllegalStateException(ProducerFailure.advice(e), e));
        }
    }
}
