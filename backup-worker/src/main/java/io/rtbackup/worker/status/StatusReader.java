package io.rtbackup.worker.status;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.SyncSummary;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.schema.WorkerStatus;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.status.FleetStatus.DestinationStatus;
import io.rtbackup.worker.status.FleetStatus.RecentSync;
import io.rtbackup.worker.status.FleetStatus.RootStatus;
import io.rtbackup.worker.status.FleetStatus.WorkerView;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 *   <li>last success and error per (host, root): those records and the newest results on the results topic.</li>
 * </ul>
 * Not thread-safe beyond {@link #read}, which is synchronized; keep one per process and close it.
 */
public final class StatusReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusReader.class);
    public static final int DEFAULT_SCAN_LIMIT = 1000;
    static final int RESULTS_PER_PARTITION = 200;
    static final int RECENT_SYNCS = 20;
    static final String GROUP_PREFIX = "rtb-dest-";

    private final String bootstrapServers;
    private final Topics topics;
    private final Duration timeout;
    private final int scanLimit;
    private final LongSupplier clockMs;
    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> consumer;
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
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        Map<String, Object> a = new HashMap<>(kafka);
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        a.put(AdminClientConfig.CLIENT_ID_CONFIG, "rtb-status-admin");
        a.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        a.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        this.admin = Admin.create(a);
        Map<String, Object> c = new HashMap<>(kafka);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-status-reader");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(c);
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
        throws ExecutionException, TimeoutException, InterruptedException, StatusUnavailableException {
        long now = clockMs.getAsLong();
        List<TopicPartition> eventParts = partitions(topics.events());
        Map<TopicPartition, Long> start = offsets(eventParts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(eventParts, OffsetSpec.latest());

        Map<String, WorkerStatus> records = latestStatusRecords(deadline);
        Map<String, List<WorkerStatus>> recordsByDestination = new TreeMap<>();
        for (WorkerStatus w : records.values()) {
            recordsByDestination.computeIfAbsent(w.getDestination(), d -> new ArrayList<>()).add(w);
        }

        Set<String> groups = new TreeSet<>();
        for (var g : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(remaining(deadline),
            TimeUnit.MILLISECONDS)) {
            if (g.groupId().startsWith(GROUP_PREFIX)) groups.add(g.groupId());
        }
        for (String d : expected) groups.add(group(d));
        for (String d : recordsByDestination.keySet()) groups.add(group(d));
        Map<String, Map<TopicPartition, Long>> committed = committed(groups, eventParts, deadline);

        Set<String> names = new TreeSet<>(expected);
        names.addAll(recordsByDestination.keySet());
        committed.forEach((g, offs) -> {
            if (!offs.isEmpty()) names.add(g.substring(GROUP_PREFIX.length()));
        });

        List<SyncResult> results = recentResults(deadline);
        List<DestinationStatus> out = new ArrayList<>();
        for (String name : names) {
            Map<TopicPartition, Long> offs = committed.getOrDefault(group(name), Map.of());
            Map<TopicPartition, Long> from = new HashMap<>();
            long lag = 0;
            for (TopicPartition tp : eventParts) {
                Long c = offs.get(tp);
                long f = c == null ? start.get(tp) : Math.max(c, start.get(tp));
                from.put(tp, f);
                lag += Math.max(0, end.get(tp) - f);
            }
            Scan scan = scan(from, end, deadline);
            out.add(destination(name, lag, !offs.isEmpty(), scan, recordsByDestination.getOrDefault(name, List.of()),
                results, now));
        }
        return new FleetStatus(now, topics.events(), out);
    }

    private static String group(String destination) {
        return new DestinationConfig(destination, List.of(), DestinationConfig.DEFAULT_PREFIX).consumerGroup();
    }

    // ---- per destination ---------------------------------------------------------------------------------------

    private record RootKey(String host, String root) {
    }

    private static final class RootAcc {
        long lag;
        long oldestMs = Long.MAX_VALUE;
        long lastSuccessMs;
        long lastErrorMs;
        String lastError;

        void success(long at) {
            lastSuccessMs = Math.max(lastSuccessMs, at);
        }

        void error(long at, String error) {
            if (at >= lastErrorMs) {
                lastErrorMs = at;
                lastError = error;
            }
        }
    }

    private record Scan(long oldestMs, boolean complete, Map<RootKey, RootAcc> roots) {
    }

    private DestinationStatus destination(String name, long lag, boolean hasCommits, Scan scan,
                                          List<WorkerStatus> records, List<SyncResult> results, long now) {
        Map<RootKey, RootAcc> roots = new TreeMap<>(Comparator.comparing(RootKey::host).thenComparing(RootKey::root));
        roots.putAll(scan.roots());
        long lastSuccess = 0;
        long lastErrorMs = 0;
        String lastError = null;
        long ok = 0;
        long failed = 0;
        boolean paused = false;
        String breaker = null;
        List<WorkerView> workers = new ArrayList<>();
        List<RecentSync> recent = new ArrayList<>();
        for (WorkerStatus w : records) {
            boolean stale = now - w.getPublishedAtMs() > 3 * w.getIntervalMs() + 5_000;
            workers.add(new WorkerView(w.getWorkerId(), w.getPublishedAtMs(), stale, w.getReady(), w.getBreakerState(),
                w.getPaused(), w.getPendingPaths(), w.getCommandsInFlight(), w.getCommandsWaitingForRetry(),
                w.getAssignedPartitions(), w.getLagEvents()));
            if (!stale) {
                paused |= w.getPaused();
                breaker = worse(breaker, w.getBreakerState());
            }
            ok += w.getSyncsOk();
            failed += w.getSyncsFailed();
            lastSuccess = Math.max(lastSuccess, w.getLastSuccessMs());
            if (w.getLastError() != null && w.getLastErrorMs() >= lastErrorMs) {
                lastErrorMs = w.getLastErrorMs();
                lastError = w.getLastError();
            }
            for (SyncSummary s : w.getRecentSyncs()) {
                recent.add(new RecentSync(s.getFinishedAtMs(), w.getWorkerId(), s.getHostId(), s.getRootId(),
                    s.getOutcome(), s.getFullSync(), s.getPaths(), s.getSamplePaths(), s.getAttempt(), s.getBytesSent(),
                    s.getDurationMs(), s.getLatencyMs(), s.getError()));
                RootAcc acc = roots.computeIfAbsent(new RootKey(s.getHostId(), s.getRootId()), k -> new RootAcc());
                if (s.getOutcome().equals(SyncOutcome.OK.name())) acc.success(s.getFinishedAtMs());
                else acc.error(s.getFinishedAtMs(), s.getError() == null ? s.getOutcome() : s.getError());
            }
        }
        for (SyncResult r : results) {
            if (!r.getDestination().equals(name)) continue;
            RootAcc acc = roots.computeIfAbsent(new RootKey(r.getHostId(), r.getRootId()), k -> new RootAcc());
            if (r.getOutcome() == SyncOutcome.OK) {
                acc.success(r.getFinishedAtMs());
                lastSuccess = Math.max(lastSuccess, r.getFinishedAtMs());
            } else {
                String why = r.getOutcome() + ": " + (r.getError() != null ? r.getError() : "rsync exit code " + r.getExitCode());
                acc.error(r.getFinishedAtMs(), why);
                if (r.getFinishedAtMs() >= lastErrorMs) {
                    lastErrorMs = r.getFinishedAtMs();
                    lastError = why;
                }
            }
        }
        recent.sort(Comparator.comparingLong(RecentSync::finishedAtMs).reversed());
        if (recent.size() > RECENT_SYNCS) recent = new ArrayList<>(recent.subList(0, RECENT_SYNCS));
        List<RootStatus> rootStatus = new ArrayList<>();
        roots.forEach((k, a) -> rootStatus.add(new RootStatus(k.host(), k.root(), a.lag, scan.complete(),
            a.lag == 0 || a.oldestMs == Long.MAX_VALUE ? 0 : seconds(now - a.oldestMs), a.lastSuccessMs, a.lastErrorMs,
            a.lastError)));
        long oldest = lag == 0 || scan.oldestMs() == Long.MAX_VALUE ? 0 : scan.oldestMs();
        return new DestinationStatus(name, group(name), lag, oldest == 0 ? 0 : seconds(now - oldest), oldest,
            hasCommits, breaker == null ? "UNKNOWN" : breaker, paused, ok, failed, lastSuccess, lastErrorMs, lastError,
            workers, rootStatus, recent);
    }

    private static double seconds(long ms) {
        return Math.max(0, ms) / 1000.0;
    }

    private static String worse(String a, String b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(String state) {
        if (state == null) return -1;
        return switch (state) {
            case "CLOSED" -> 0;
            case "HALF_OPEN" -> 1;
            case "OPEN", "FORCED_OPEN" -> 2;
            default -> 1;
        };
    }

    // ---- Kafka reads -------------------------------------------------------------------------------------------

    private long remaining(long deadline) throws TimeoutException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) throw new TimeoutException("status read took longer than " + timeout.toSeconds() + " s");
        return ms;
    }

    private List<TopicPartition> partitions(String topic)
        throws ExecutionException, TimeoutException, InterruptedException {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
        return d.partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    private Map<TopicPartition, Long> offsets(Collection<TopicPartition> parts, OffsetSpec spec)
        throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (TopicPartition tp : parts) q.put(tp, spec);
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(q).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /** Committed offsets per group on the events partitions; partitions without a commit are absent. */
    private Map<String, Map<TopicPartition, Long>> committed(Set<String> groups, List<TopicPartition> parts,
                                                             long deadline)
        throws ExecutionException, TimeoutException, InterruptedException {
        Map<String, Map<TopicPartition, Long>> out = new LinkedHashMap<>();
        if (groups.isEmpty()) return out;
        Map<String, ListConsumerGroupOffsetsSpec> specs = new LinkedHashMap<>();
        for (String g : groups) specs.put(g, new ListConsumerGroupOffsetsSpec().topicPartitions(parts));
        var result = admin.listConsumerGroupOffsets(specs);
        for (String g : groups) {
            Map<TopicPartition, Long> offs = new HashMap<>();
            try {
                Map<TopicPartition, OffsetAndMetadata> m =
                    result.partitionsToOffsetAndMetadata(g).get(remaining(deadline), TimeUnit.MILLISECONDS);
                m.forEach((tp, om) -> {
                    if (om != null && om.offset() >= 0) offs.put(tp, om.offset());
                });
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) throw e;
            }
            out.put(g, offs);
        }
        return out;
    }

    private Map<String, WorkerStatus> latestStatusRecords(long deadline)
        throws ExecutionException, TimeoutException, InterruptedException, StatusUnavailableException {
        List<TopicPartition> parts = partitions(topics.status());
        Map<TopicPartition, Long> start = offsets(parts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(parts, OffsetSpec.latest());
        Map<String, WorkerStatus> latest = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readRange(start, end, deadline)) {
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

    private List<SyncResult> recentResults(long deadline)
        throws ExecutionException, TimeoutException, InterruptedException, StatusUnavailableException {
        List<TopicPartition> parts = partitions(topics.results());
        Map<TopicPartition, Long> start = offsets(parts, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(parts, OffsetSpec.latest());
        Map<TopicPartition, Long> from = new HashMap<>();
        for (TopicPartition tp : parts) from.put(tp, Math.max(start.get(tp), end.get(tp) - RESULTS_PER_PARTITION));
        List<SyncResult> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readRange(from, end, deadline)) {
            try {
                out.add(resultCodec.decode(r.value()));
            } catch (UndecodableRecordException e) {
                log.debug("skipping result at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
        }
        return out;
    }

    /** The unconsumed events of one destination, up to the scan limit per partition. */
    private Scan scan(Map<TopicPartition, Long> from, Map<TopicPartition, Long> end, long deadline)
        throws TimeoutException, StatusUnavailableException {
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
        Map<RootKey, RootAcc> roots = new HashMap<>();
        long oldest = Long.MAX_VALUE;
        for (ConsumerRecord<byte[], byte[]> r : readRange(from, until, deadline)) {
            oldest = Math.min(oldest, r.timestamp());
            RootKey key;
            try {
                FileEvent ev = eventCodec.decode(r.value());
                key = new RootKey(ev.getHostId(), ev.getRootId());
            } catch (UndecodableRecordException e) {
                key = new RootKey("?", "?"); // the worker sends these to the DLQ; they still count as lag
            }
            RootAcc acc = roots.computeIfAbsent(key, k -> new RootAcc());
            acc.lag++;
            acc.oldestMs = Math.min(acc.oldestMs, r.timestamp());
        }
        return new Scan(oldest, complete, roots);
    }

    /** Every record from {@code from} (inclusive) to {@code until} (exclusive) per partition, no group involved. */
    private List<ConsumerRecord<byte[], byte[]>> readRange(Map<TopicPartition, Long> from,
                                                          Map<TopicPartition, Long> until, long deadline)
        throws TimeoutException {
        Map<TopicPartition, Long> todo = new HashMap<>();
        for (var e : until.entrySet()) {
            Long f = from.get(e.getKey());
            if (f != null && e.getValue() > f) todo.put(e.getKey(), e.getValue());
        }
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        if (todo.isEmpty()) return out;
        consumer.assign(todo.keySet());
        for (TopicPartition tp : todo.keySet()) consumer.seek(tp, from.get(tp));
        try {
            while (!todo.isEmpty()) {
                remaining(deadline);
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    Long u = todo.get(new TopicPartition(r.topic(), r.partition()));
                    if (u != null && r.offset() < u) out.add(r);
                }
                for (TopicPartition tp : List.copyOf(todo.keySet())) {
                    if (consumer.position(tp, Duration.ofMillis(remaining(deadline))) >= todo.get(tp)) {
                        todo.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                }
            }
        } finally {
            consumer.assign(List.of());
        }
        return out;
    }

    @Override
    public void close() {
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        admin.close(Duration.ofSeconds(5));
    }
}
