package io.rtbackup.worker.offsets;

import io.rtbackup.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one destination's consumer reads and what it commits. Every polled event is {@link #consumed} and later
 * {@link #done} (synced, dead-lettered, or nothing to do); what is committed is the {@link WatermarkTracker}'s
 * watermark, so a commit never skips an event that still waits for its sync. Commits go out at most once per commit
 * interval and only for partitions whose watermark moved.
 *
 * <p><b>Offset reset.</b> The consumer runs with {@code auto.offset.reset=none}, so it never jumps silently: a
 * partition without a committed offset raises {@link NoOffsetForPartitionException}, one whose committed offset is no
 * longer in the log (retention deleted it, or the topic was recreated) raises {@link OffsetOutOfRangeException}.
 * Both are answered by seeking to the log start and remembering the log end E at that moment: every event below E is
 * {@linkplain #replaying replayed}, and the caller turns each into a full-root sync of its (host, root) instead of a
 * path sync. So every (host, root) with events in the retained log gets one full sync (which absorbs all its replayed
 * events) before any of its later changes. A missing offset is treated the same way because it means either a new
 * destination (which needs an initial full sync anyway) or a group whose offsets expired. Limitation: a (host, root)
 * with no retained event at all in the partition is not seen; the agent's own startup rescan covers it. An empty
 * partition is simply started at its end.
 *
 * <p><b>Rebalance.</b> Revoked partitions commit what is done, then are forgotten here and, through
 * {@link PartitionsGone}, by the caller (their pending work is the new owner's to replay). Lost partitions are
 * forgotten without a commit (another member may own them already). Assigned partitions get their positions fixed
 * before {@link #assignedOnce()} turns true, so an event published meanwhile is never taken for unknown history.
 *
 * <p>Single-threaded: everything, the rebalance callbacks and commit callbacks included, runs on the thread that
 * polls the consumer.
 */
public final class OffsetControl implements ConsumerRebalanceListener {
    private static final Logger log = LoggerFactory.getLogger(OffsetControl.class);
    private static final Duration POSITION_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final String NO_OFFSET = "has no committed offset (new destination, or the group's offsets expired)";

    /** Told which partitions left this consumer, after their offsets were dealt with. */
    @FunctionalInterface
    public interface PartitionsGone {
        void forget(Set<Integer> partitions);
    }

    private final String destination;
    private final Consumer<byte[], byte[]> consumer;
    private final long commitIntervalNs;
    private final WorkerMetrics metrics;
    private final LongSupplier nanos;
    private final PartitionsGone partitionsGone;
    private final WatermarkTracker tracker = new WatermarkTracker();
    /** Per partition in replay after a reset: the log end seen at the reset. */
    private final Map<Integer, Long> replayUntil = new HashMap<>();
    private final Map<Integer, Long> lastCommitted = new HashMap<>();
    private boolean assignedOnce;
    private long lastCommitNs;

    /**
     * @param consumer       created with {@code auto.offset.reset=none} and auto-commit off
     * @param partitionsGone runs (on the polling thread) for revoked or lost partitions
     */
    public OffsetControl(String destination, Consumer<byte[], byte[]> consumer, Duration commitInterval,
                         WorkerMetrics metrics, LongSupplier nanoClock, PartitionsGone partitionsGone) {
        this.destination = destination;
        this.consumer = consumer;
        this.commitIntervalNs = commitInterval.toNanos();
        this.metrics = metrics;
        this.nanos = nanoClock;
        this.partitionsGone = partitionsGone;
    }

    /** Subscribes the consumer to the events topic, with this as its rebalance listener. */
    public void subscribe(String topic) {
        consumer.subscribe(List.of(topic), this);
    }

    /**
     * Polls. Empty when a partition turned out to have no usable committed offset: it was moved to its log start
     * (see the class comment) and the caller should poll again.
     */
    public Optional<ConsumerRecords<byte[], byte[]>> poll(Duration timeout) {
        try {
            return Optional.of(consumer.poll(timeout));
        } catch (NoOffsetForPartitionException e) {
            startFromBeginning(e.partitions(), NO_OFFSET);
        } catch (OffsetOutOfRangeException e) {
            startFromBeginning(e.offsetOutOfRangePartitions().keySet(),
                "has a committed offset that is no longer in the log (deleted by retention, or the topic was recreated)");
        }
        return Optional.empty();
    }

    /** True once a first assignment had its positions fixed. */
    public boolean assignedOnce() {
        return assignedOnce;
    }

    /** A polled event; it holds back the partition's commits until {@link #done}. */
    public void consumed(int partition, long offset) {
        tracker.track(partition, offset);
    }

    /** The event needs nothing more. Unknown or forgotten events are ignored. */
    public void done(int partition, long offset) {
        tracker.done(partition, offset);
    }

    public void done(EventRef ref) {
        tracker.done(ref);
    }

    /**
     * Whether the event is replayed after an offset reset of its partition (below the log end seen then). The first
     * event at or past that end ends the partition's replay.
     */
    public boolean replaying(int partition, long offset) {
        Long until = replayUntil.get(partition);
        if (until == null) return false;
        if (offset < until) return true;
        replayUntil.remove(partition);
        log.info("destination {}: partition {} caught up past its offset reset at {}", destination, partition, until);
        return false;
    }

    /** Commits the watermarks that moved (asynchronously), at most once per commit interval. */
    public void commitIfDue() {
        long now = nanos.getAsLong();
        if (now - lastCommitNs < commitIntervalNs) return;
        lastCommitNs = now;
        Map<TopicPartition, OffsetAndMetadata> m = committableChanges(consumer.assignment());
        if (m.isEmpty()) return;
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
            lastCommitted.put(e.getKey().partition(), e.getValue().offset());
        }
        consumer.commitAsync(m, (offsets, ex) -> {
            if (ex != null) {
                // Forgetting what was sent makes the next due commit send it again.
                log.warn("destination {}: offset commit failed, will retry: {}", destination, ex.toString());
                for (TopicPartition tp : offsets.keySet()) lastCommitted.remove(tp.partition());
            }
        });
    }

    /** Commits the watermarks of every assigned partition now and waits for it (on shutdown). */
    public void commitAssigned() {
        commitNow(consumer.assignment());
    }

    /** Events waiting in Kafka for this consumer, summed over its partitions (as far as the consumer knows). */
    public long lag() {
        long sum = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) sum += l.getAsLong();
        }
        return sum;
    }

    /** Events not yet durable on the destination: waiting in Kafka, or consumed but not done. */
    public long unreplicated() {
        long sum = lag();
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong c = tracker.committable(tp.partition());
            if (c.isPresent()) sum += tracker.consumedUpTo(tp.partition()) - c.getAsLong();
        }
        return sum;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        if (parts.isEmpty()) return;
        try {
            commitNow(parts);
        } catch (RuntimeException e) {
            // Nothing is lost: the new owner reads from the last commit, which is behind what is done here.
            log.warn("destination {}: commit on revocation of {} failed (their events replay): {}", destination, parts,
                e.toString());
        }
        forget(parts, "revoked");
    }

    /**
     * After a failure that may have left consumed events unaccounted for (records polled but never handed on):
     * commits what is done, forgets every assigned partition's outstanding work as a revocation would, and seeks
     * each back to its committed offset, so what was not done is read again. Throws if Kafka cannot be asked.
     */
    public void rewindAssigned(String why) {
        Set<TopicPartition> parts = consumer.assignment();
        if (parts.isEmpty()) return;
        commitNow(parts);
        forget(parts, why);
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(parts, COMMIT_TIMEOUT);
        List<TopicPartition> noOffset = new ArrayList<>();
        for (TopicPartition tp : parts) {
            OffsetAndMetadata c = committed.get(tp);
            if (c == null) {
                noOffset.add(tp);
            } else {
                consumer.seek(tp, c.offset());
                lastCommitted.put(tp.partition(), c.offset());
            }
        }
        startFromBeginning(noOffset, NO_OFFSET);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> parts) {
        if (!parts.isEmpty()) forget(parts, "lost");
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        if (!parts.isEmpty()) log.info("destination {}: assigned {}", destination, parts);
        // Fix every position now, before the pipeline counts as ready: otherwise a partition without a committed
        // offset is only found to be one on a later poll, and events published in between would be taken for
        // an unknown history (a full-root sync) instead of new changes.
        List<TopicPartition> noOffset = new ArrayList<>();
        for (TopicPartition tp : parts) {
            try {
                consumer.position(tp, POSITION_TIMEOUT);
            } catch (NoOffsetForPartitionException e) {
                noOffset.add(tp);
            } catch (TimeoutException e) {
                log.warn("destination {}: no position for {} within {}; the next poll resolves it", destination, tp,
                    POSITION_TIMEOUT);
            }
        }
        startFromBeginning(noOffset, NO_OFFSET);
        assignedOnce = true;
    }

    private void startFromBeginning(Collection<TopicPartition> parts, String why) {
        if (parts.isEmpty()) return;
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
        Map<TopicPartition, Long> end = consumer.endOffsets(parts);
        for (TopicPartition tp : parts) {
            long b = begin.get(tp);
            long e = end.get(tp);
            consumer.seek(tp, b);
            tracker.startAt(tp.partition(), b);
            lastCommitted.remove(tp.partition());
            if (e > b) {
                replayUntil.put(tp.partition(), e);
                metrics.offsetResets.labelValues(destination).inc();
                log.warn("destination {}: partition {} {}; replaying it from {}: every (host, root) with events below "
                    + "offset {} gets a full-root sync before its later changes", destination, tp, why, b, e);
            } else {
                replayUntil.remove(tp.partition());
                log.info("destination {}: partition {} {} and is empty; starting at offset {}", destination, tp, why, b);
            }
        }
    }

    private void commitNow(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> m = committableChanges(parts);
        if (m.isEmpty()) return;
        consumer.commitSync(m, COMMIT_TIMEOUT);
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
            lastCommitted.put(e.getKey().partition(), e.getValue().offset());
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committableChanges(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        for (TopicPartition tp : parts) {
            OptionalLong c = tracker.committable(tp.partition());
            if (c.isPresent() && c.getAsLong() > lastCommitted.getOrDefault(tp.partition(), -1L)) {
                m.put(tp, new OffsetAndMetadata(c.getAsLong()));
            }
        }
        return m;
    }

    private void forget(Collection<TopicPartition> parts, String how) {
        Set<Integer> gone = new HashSet<>();
        for (TopicPartition tp : parts) gone.add(tp.partition());
        tracker.forget(gone);
        partitionsGone.forget(gone);
        for (Integer p : gone) {
            replayUntil.remove(p);
            lastCommitted.remove(p);
        }
        log.info("destination {}: partitions {} {}; their pending paths are dropped (the new owner replays them)",
            destination, parts, how);
    }
}
