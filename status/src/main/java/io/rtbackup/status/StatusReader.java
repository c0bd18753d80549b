package io.rtbackup.status;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.schema.WorkerStatus;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a {@link FleetStatus} from Kafka alone, so it works from any host that can reach the brokers:
 * <ul>
 *   <li>lag in events: per destination, the events-topic log end minus the committed offset of its consumer group
 *       ({@code rtb-dest-<name>}); a partition without a committed offset counts from the log start, as the worker
 *       replays it from there;</li>
 *   <li>lag in seconds and per (host, root): the unconsumed events themselves, read from the committed offset with
 *       a plain assigned consumer (no group, nothing committed), up to a limit per partition;</li>
 *   <li>breaker state, pause, last error and recent syncs: the latest {@link WorkerStatus} per worker and
 *       destination on the compacted status topic;</li>
 *   <li>last success and error per (host, root): those records and the newest results on the results topic;</li>
 *   <li>the pause switch of each root: the compacted control and root-state topics, read whole
 *       ({@link SwitchFold}).</li>
 * </ul>
 * This class decides what to read and turns every failure into a {@link StatusUnavailableException} that names the
 * address; {@link LogReader} does the reading and {@link DestinationFold} what the records mean.
 * Not thread-safe beyond {@link #read}, which is synchronized; keep one per process and close it.
 */
public final class StatusReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusReader.class);
    public static final int DEFAULT_SCAN_LIMIT = 1000;
    static final int RESULTS_PER_PARTITION = 200;

    private final String bootstrapServers;
    private final Topics topics;
    private final Duration timeout;
    private final int scanLimit;
    private final LongSupplier clockMs;
    private final LogReader kafka;
    private final AvroCodec<WorkerStatus> statusCodec = AvroCodec.workerStatus();
    private final AvroCodec<FileEvent> eventCodec = AvroCodec.fileEvents();
    private final AvroCodec<SyncResult> resultCodec = AvroCodec.syncResults();

    /**
     * @param kafka     extra Kafka client properties (security settings), as {@code kafka.*} of a worker's file
     * @param timeout   how long one {@link #read} may take before it reports Kafka as unreachable
     * @param scanLimit unconsumed events read per partition for the per-(host, root) breakdown and the lag age
     */
    public StatusReader(String bootstrapServers, Topics topics, Map<String, String> kafka, Duration timeout,
                        int scanLimit, LongSupplier clockMs) {
        this.bootstrapServers = bootstrapServers;
        this.topics = topics;
        this.timeout = timeout;
        this.scanLimit = scanLimit;
        this.clockMs = clockMs;
        this.kafka = new LogReader(bootstrapServers, kafka, timeout);
    }

    /**
     * Reads the status of every destination that has a consumer group with offsets on the events topic or a worker
     * record, plus {@code expected} (a destination nobody served yet shows its whole log as lag).
     */
    public synchronized FleetStatus read(Collection<String> expected) throws StatusUnavailableException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            return readOrThrow(expected, deadline);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof UnknownTopicOrPartitionException) {
                throw new StatusUnavailableException("a topic of " + topics + " does not exist at " + bootstrapServers
                    + ": is --topic-prefix right, and did a worker or `rtb broker` create the topics?", cause);
            }
            throw unreachable(cause);
        } catch (TimeoutException | org.apache.kafka.common.errors.TimeoutException e) {
            throw unreachable(e);
        } catch (KafkaException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StatusUnavailableException("interrupted while reading the status from " + bootstrapServers, e);
        }
    }

    private StatusUnavailableException unreachable(Throwable cause) {
        return new StatusUnavailableException("cannot read the status from Kafka at " + bootstrapServers + " within "
            + timeout.toSeconds() + " s (" + cause + "): is the broker up and the address (--bootstrap-servers or "
            + "kafka.bootstrap.servers) right?", cause);
    }

    private FleetStatus readOrThrow(Collection<String> expected, long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        long now = clockMs.getAsLong();
        List<TopicPartition> eventParts = kafka.partitions(topics.events());
        Map<TopicPartition, Long> start = kafka.offsets(eventParts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = kafka.offsets(eventParts, OffsetSpec.latest());

        Map<String, WorkerStatus> records = latestStatusRecords(deadline);
        Map<String, List<WorkerStatus>> recordsByDestination = new TreeMap<>();
        for (WorkerStatus w : records.values()) {
            recordsByDestination.computeIfAbsent(w.getDestination(), d -> new ArrayList<>()).add(w);
        }

        Set<String> groups = new TreeSet<>();
        for (String g : kafka.consumerGroups(deadline)) {
            if (DestinationGroup.destinationOf(g).isPresent()) groups.add(g);
        }
        for (String d : expected) groups.add(DestinationGroup.of(d));
        for (String d : recordsByDestination.keySet()) groups.add(DestinationGroup.of(d));
        Map<String, Map<TopicPartition, Long>> committed = kafka.committed(groups, eventParts, deadline);

        Set<String> names = new TreeSet<>(expected);
        names.addAll(recordsByDestination.keySet());
        committed.forEach((g, offs) -> {
            if (!offs.isEmpty()) DestinationGroup.destinationOf(g).ifPresent(names::add);
        });

        List<SyncResult> results = recentResults(deadline);
        List<FleetStatus.DestinationStatus> out = new ArrayList<>();
        for (String name : names) {
            Map<TopicPartition, Long> offs = committed.getOrDefault(DestinationGroup.of(name), Map.of());
            Map<TopicPartition, Long> from = new HashMap<>();
            long lag = 0;
            for (TopicPartition tp : eventParts) {
                Long c = offs.get(tp);
                long f = c == null ? start.get(tp) : Math.max(c, start.get(tp));
                from.put(tp, f);
                lag += Math.max(0, end.get(tp) - f);
            }
            out.add(DestinationFold.fold(name, lag, !offs.isEmpty(), backlog(from, end, deadline),
                recordsByDestination.getOrDefault(name, List.of()), results, now));
        }
        return new FleetStatus(now, topics.events(), out, SwitchFold.fold(wholeTopic(topics.control(), deadline),
            wholeTopic(topics.rootState(), deadline)));
    }

    /** Every record of a (small, compacted) topic. */
    private List<ConsumerRecord<byte[], byte[]>> wholeTopic(String topic, long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        List<TopicPartition> parts = kafka.partitions(topic);
        return kafka.read(kafka.offsets(parts, OffsetSpec.earliest()), kafka.offsets(parts, OffsetSpec.latest()),
            deadline);
    }

    /** The latest record per key on the compacted status topic; a tombstone removes its key. */
    private Map<String, WorkerStatus> latestStatusRecords(long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        List<TopicPartition> parts = kafka.partitions(topics.status());
        Map<TopicPartition, Long> start = kafka.offsets(parts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = kafka.offsets(parts, OffsetSpec.latest());
        Map<String, WorkerStatus> latest = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.read(start, end, deadline)) {
            if (r.key() == null) continue;
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                latest.remove(key);
                continue;
            }
            try {
                latest.put(key, statusCodec.decode(r.value()));
            } catch (UndecodableRecordException e) {
                log.debug("skipping status record {} at {}-{}@{}: {}", key, r.topic(), r.partition(), r.offset(),
                    e.getMessage());
            }
        }
        return latest;
    }

    /** The newest {@value #RESULTS_PER_PARTITION} results per partition of the results topic. */
    private List<SyncResult> recentResults(long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        List<TopicPartition> parts = kafka.partitions(topics.results());
        Map<TopicPartition, Long> start = kafka.offsets(parts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = kafka.offsets(parts, OffsetSpec.latest());
        Map<TopicPartition, Long> from = new HashMap<>();
        for (TopicPartition tp : parts) from.put(tp, Math.max(start.get(tp), end.get(tp) - RESULTS_PER_PARTITION));
        List<SyncResult> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.read(from, end, deadline)) {
            try {
                out.add(resultCodec.decode(r.value()));
            } catch (UndecodableRecordException e) {
                log.debug("skipping result at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
        }
        return out;
    }

    /** The unconsumed events of one destination, up to the scan limit per partition. */
    private Backlog backlog(Map<TopicPartition, Long> from, Map<TopicPartition, Long> end, long deadline)
        throws TimeoutException {
        Map<TopicPartition, Long> until = new HashMap<>();
        boolean complete = true;
        for (var e : from.entrySet()) {
            long stop = end.get(e.getKey());
            if (stop - e.getValue() > scanLimit) {
                stop = e.getValue() + scanLimit;
                complete = false;
            }
            until.put(e.getKey(), stop);
        }
        return Backlog.tally(kafka.read(from, until, deadline), complete, eventCodec);
    }

    @Override
    public void close() {
        kafka.close();
    }
}
