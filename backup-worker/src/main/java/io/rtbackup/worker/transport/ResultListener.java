package io.rtbackup.worker.transport;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.signing.RecordAuthenticity;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the results topic for one worker: only the partition the results addressed to it travel in
 * ({@link OwnResultPartitions}, the rule of {@code ResultPartitions}; no group), starting at the end, keeping only
 * results whose {@code replyTo} is this worker, handing each to its destination's pipeline. Results from before the
 * start are of no use: the commands they answer were issued by an earlier incarnation whose state is gone.
 */
public final class ResultListener implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ResultListener.class);

    private final String bootstrapServers;
    private final Topics topics;
    private final String workerId;
    private final Map<String, Consumer<SyncResult>> byDestination;
    private final Map<String, String> overrides;
    private final WorkerMetrics metrics;
    private final AvroCodec<SyncResult> codec = AvroCodec.syncResults();
    private final RecordAuthenticity authenticity;
    private final CountDownLatch positioned = new CountDownLatch(1);
    private final Duration growthCheck;
    private final Duration keepOld;
    private volatile boolean running = true;
    private volatile KafkaConsumer<byte[], byte[]> consumer;

    public ResultListener(String bootstrapServers, Topics topics, String workerId,
                          Map<String, Consumer<SyncResult>> byDestination, Map<String, String> overrides,
                          WorkerMetrics metrics) {
        this(bootstrapServers, topics, workerId, byDestination, overrides, metrics, RecordAuthenticity.none());
    }

    /** @param authenticity which results count: those signed by the host they name (see {@link RecordAuthenticity}) */
    public ResultListener(String bootstrapServers, Topics topics, String workerId,
                          Map<String, Consumer<SyncResult>> byDestination, Map<String, String> overrides,
                          WorkerMetrics metrics, RecordAuthenticity authenticity) {
        this(bootstrapServers, topics, workerId, byDestination, overrides, metrics, authenticity,
            OwnResultPartitions.CHECK_EVERY, OwnResultPartitions.KEEP_OLD);
    }

    /** @param growthCheck how often the topic's growth is checked; @param keepOld how long a partition left is read */
    ResultListener(String bootstrapServers, Topics topics, String workerId,
                   Map<String, Consumer<SyncResult>> byDestination, Map<String, String> overrides,
                   WorkerMetrics metrics, RecordAuthenticity authenticity, Duration growthCheck, Duration keepOld) {
        this.authenticity = authenticity;
        this.growthCheck = growthCheck;
        this.keepOld = keepOld;
        this.bootstrapServers = bootstrapServers;
        this.topics = topics;
        this.workerId = workerId;
        this.byDestination = Map.copyOf(byDestination);
        this.overrides = overrides;
        this.metrics = metrics;
    }

    /** Waits until the listener reads from the end of its partition; commands must not go out before. */
    public boolean awaitPositioned(Duration timeout) throws InterruptedException {
        return positioned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        Map<String, Object> props = new HashMap<>(overrides);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-worker-" + workerId + "-results");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        // partitionsFor answers from the metadata cache: refresh it often enough that growth of the results topic is
        // noticed within a minute (OwnResultPartitions), well within result.timeout-ms
        props.putIfAbsent(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) OwnResultPartitions.CHECK_EVERY.toMillis());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            consumer = c;
            if (!running) return;
            OwnResultPartitions own = new OwnResultPartitions(workerId, topics.results(), c,
                () -> System.nanoTime() / 1_000_000, growthCheck, keepOld); // monotonic: wall-clock steps do not matter
            own.assignAtEnd();
            positioned.countDown();
            while (running) {
                try {
                    own.follow();
                    ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(200));
                    metrics.resultsRead.inc(records.count());
                    for (ConsumerRecord<byte[], byte[]> r : records) handle(r);
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException e) {
                    // Retried: results skipped by a failed batch are covered by the pipelines' result timeout,
                    // which reissues their commands; without this loop every command would time out.
                    log.error("worker {}: reading results failed, retrying in 1 s: {}", workerId, e.toString(), e);
                    sleepQuietly();
                }
            }
        } catch (WakeupException e) {
            if (running) throw e;
        } catch (RuntimeException e) {
            // the Worker reports this thread's end as fatal: no command of this worker could complete any more
            log.error("worker {}: results listener stopped: {}", workerId, e.toString(), e);
            throw e;
        } finally {
            consumer = null;
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> r) {
        SyncResult result;
        try {
            result = codec.decode(r.value());
        } catch (UndecodableRecordException e) {
            metrics.undecodableResults.inc();
            // Nothing is lost: the command it may answer gets no result, and the pipeline's result timeout retries it.
            log.warn("worker {}: undecodable record {}-{}@{} not used; a command it answered is retried when its "
                + "result times out: {}", workerId, r.topic(), r.partition(), r.offset(), e.getMessage());
            return;
        }
        if (!workerId.equals(result.getReplyTo())) return;
        if (!authenticity.admitResult(r, result)) return; // not used: its command times out and is retried
        Consumer<SyncResult> target = byDestination.get(result.getDestination());
        if (target == null) {
            log.warn("worker {}: result {} names destination '{}', which this worker does not serve", workerId,
                result.getCommandId(), result.getDestination());
            return;
        }
        if (log.isDebugEnabled()) {
            // the record's time is its producer's send time (CreateTime): the hop from the agent's send to here
            log.debug("worker {}: result for command {} read, {} ms after the agent sent it", workerId,
                result.getCommandId(), System.currentTimeMillis() - r.timestamp());
        }
        target.accept(result);
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void stop() {
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) c.wakeup();
    }
}
