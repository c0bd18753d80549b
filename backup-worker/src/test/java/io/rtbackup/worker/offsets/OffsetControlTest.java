package io.rtbackup.worker.offsets;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.junit.jupiter.api.Test;

/** Offset control over Kafka's MockConsumer ({@code auto.offset.reset=none}, as the worker runs it), fake clock. */
class OffsetControlTest {
    private static final String TOPIC = "rtb.events";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
    private static final long MS = 1_000_000L;
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(500);

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final FlakyCommitConsumer consumer = new FlakyCommitConsumer();
    private final WorkerMetrics metrics = new WorkerMetrics(new PrometheusRegistry());
    private final List<Set<Integer>> gone = new ArrayList<>();
    private final OffsetControl offsets = new OffsetControl("d", consumer, COMMIT_INTERVAL, metrics, now::get, gone::add);

    /**
     * A MockConsumer whose next asynchronous commit can be made to fail (MockConsumer's own always succeed), and
     * which remembers every commit (MockConsumer's {@code committed} answers 0 for partitions no longer assigned).
     */
    private static final class FlakyCommitConsumer extends MockConsumer<byte[], byte[]> {
        final Map<TopicPartition, Long> commits = new HashMap<>();
        boolean failNextAsyncCommit;

        FlakyCommitConsumer() {
            super("none");
        }

        @Override
        public synchronized void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
            if (failNextAsyncCommit) {
                failNextAsyncCommit = false;
                callback.onComplete(offsets, new RetriableException("coordinator moved") { });
                return;
            }
            offsets.forEach((tp, o) -> commits.put(tp, o.offset()));
            super.commitAsync(offsets, callback);
        }
    }

    /** Subscribes and gets {@code parts} assigned, each with a committed offset of 0 (a known history). */
    private void assignCommittedAtZero(TopicPartition... parts) {
        offsets.subscribe(TOPIC);
        for (TopicPartition tp : parts) consumer.commitSync(Map.of(tp, new OffsetAndMetadata(0)));
        consumer.rebalance(List.of(parts));
    }

    /** Polls records at {@code from..to} of the partition through offset control; each counts as consumed. */
    private void consume(TopicPartition tp, long from, long to) {
        for (long o = from; o <= to; o++) consumer.addRecord(new ConsumerRecord<>(TOPIC, tp.partition(), o, null, new byte[0]));
        ConsumerRecords<byte[], byte[]> records = offsets.poll(Duration.ZERO).orElseThrow();
        for (ConsumerRecord<byte[], byte[]> r : records) offsets.consumed(r.partition(), r.offset());
    }

    private Long committed(TopicPartition tp) {
        return consumer.commits.get(tp);
    }

    private void commitLater() {
        now.addAndGet(COMMIT_INTERVAL.toNanos());
        offsets.commitIfDue();
    }

    @Test
    void commitsOnlyTheOffsetsBelowTheFirstEventNotDone() {
        assignCommittedAtZero(P0);
        assertThat(offsets.assignedOnce()).isTrue();
        consume(P0, 0, 4);
        offsets.done(0, 1);
        offsets.done(0, 2);
        commitLater();
        assertThat(committed(P0)).as("0 still waits for its sync").isEqualTo(0L);
        offsets.done(new EventRef(0, 0));
        commitLater();
        assertThat(committed(P0)).as("3 still waits").isEqualTo(3L);
        offsets.done(0, 3);
        offsets.done(0, 4);
        commitLater();
        assertThat(committed(P0)).isEqualTo(5L);
    }

    @Test
    void commitsAtMostOncePerIntervalButCommitsEverythingDoneOnShutdown() {
        assignCommittedAtZero(P0);
        consume(P0, 0, 1);
        offsets.done(0, 0);
        commitLater();
        assertThat(committed(P0)).isEqualTo(1L);
        offsets.done(0, 1);
        now.addAndGet(COMMIT_INTERVAL.toNanos() - 1);
        offsets.commitIfDue();
        assertThat(committed(P0)).as("interval not over").isEqualTo(1L);
        offsets.commitAssigned();
        assertThat(committed(P0)).isEqualTo(2L);
    }

    @Test
    void aFailedAsyncCommitIsSentAgainAtTheNextCommit() {
        assignCommittedAtZero(P0);
        consume(P0, 0, 2);
        for (long o = 0; o <= 2; o++) offsets.done(0, o);
        consumer.failNextAsyncCommit = true;
        commitLater();
        assertThat(committed(P0)).isEqualTo(0L);
        commitLater();
        assertThat(committed(P0)).as("the same watermark, sent again").isEqualTo(3L);
    }

    @Test
    void aPartitionWithoutCommittedOffsetIsReplayedFromTheLogStartAsFullSyncs() {
        consumer.updateBeginningOffsets(Map.of(P0, 100L, P1, 7L));
        consumer.updateEndOffsets(Map.of(P0, 105L, P1, 7L));
        offsets.subscribe(TOPIC);
        consumer.rebalance(List.of(P0, P1));

        assertThat(offsets.assignedOnce()).isTrue();
        assertThat(consumer.position(P0)).isEqualTo(100L);
        assertThat(consumer.position(P1)).as("an empty partition starts at its end").isEqualTo(7L);
        assertThat(metrics.offsetResets.labelValues("d").get()).as("only the non-empty one is a reset").isEqualTo(1.0);
        for (long o = 100; o < 105; o++) assertThat(offsets.replaying(0, o)).as("offset %d", o).isTrue();
        assertThat(offsets.replaying(1, 7)).isFalse();
        assertThat(offsets.replaying(0, 105)).as("caught up with the log end seen at the reset").isFalse();
        assertThat(offsets.replaying(0, 101)).as("the replay is over for good").isFalse();
    }

    @Test
    void anOffsetNoLongerInTheLogIsReplayedFromTheLogStartAndForgetsWhatWasOutstanding() {
        assignCommittedAtZero(P0);
        consume(P0, 0, 2);
        offsets.done(0, 0);
        consumer.updateBeginningOffsets(Map.of(P0, 200L));
        consumer.updateEndOffsets(Map.of(P0, 300L));
        consumer.setPollException(new OffsetOutOfRangeException("deleted by retention", Map.of(P0, 3L)));

        assertThat(offsets.poll(Duration.ZERO)).as("poll again after the reset").isEmpty();
        assertThat(consumer.position(P0)).isEqualTo(200L);
        assertThat(offsets.replaying(0, 250)).isTrue();
        offsets.commitAssigned();
        assertThat(committed(P0)).as("events 1 and 2 are gone from the log; nothing waits below the log start")
            .isEqualTo(200L);
        consume(P0, 200, 201);
        offsets.done(0, 201);
        commitLater();
        assertThat(committed(P0)).isEqualTo(200L);
    }

    @Test
    void revokedPartitionsCommitWhatIsDoneAndForgetTheRest() {
        assignCommittedAtZero(P0, P1);
        consume(P0, 0, 4);
        consume(P1, 0, 2);
        offsets.done(0, 0);
        offsets.done(0, 1);
        offsets.done(0, 3);

        consumer.rebalance(List.of(P1));

        assertThat(committed(P0)).as("committed on revocation: up to the first event not done").isEqualTo(2L);
        assertThat(gone).containsExactly(Set.of(0));
        offsets.done(0, 2);
        offsets.done(0, 4);
        for (long o = 0; o <= 2; o++) offsets.done(1, o);
        offsets.commitAssigned();
        assertThat(committed(P0)).as("no longer ours: the new owner replays from 2").isEqualTo(2L);
        assertThat(committed(P1)).isEqualTo(3L);
    }

    @Test
    void aRewindCommitsWhatIsDoneAndReadsTheRestAgain() {
        assignCommittedAtZero(P0, P1);
        consume(P0, 0, 4);
        consume(P1, 0, 2);
        offsets.done(0, 0);
        offsets.done(0, 1);
        // records 3..4 of P0 and all of P1 were polled but (say) never handed on before the round failed

        offsets.rewindAssigned("test");

        assertThat(committed(P0)).as("what was done is kept").isEqualTo(2L);
        assertThat(gone).containsExactly(Set.of(0, 1));
        assertThat(consumer.position(P0)).as("the rest is read again").isEqualTo(2L);
        assertThat(consumer.position(P1)).isEqualTo(0L);
        consume(P0, 2, 4);
        for (long o = 2; o <= 4; o++) offsets.done(0, o);
        offsets.commitAssigned();
        assertThat(committed(P0)).isEqualTo(5L);
    }

    @Test
    void lostPartitionsAreForgottenWithoutACommit() {
        assignCommittedAtZero(P0);
        consume(P0, 0, 1);
        offsets.done(0, 0);
        offsets.onPartitionsLost(List.of(P0));
        assertThat(gone).containsExactly(Set.of(0));
        assertThat(committed(P0)).isEqualTo(0L);
    }

    @Test
    void reassignedPartitionsStartAfreshFromTheirCommittedOffset() {
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, 10L));
        offsets.subscribe(TOPIC);
        consumer.rebalance(List.of(P0));
        assertThat(offsets.replaying(0, 0)).isTrue();
        consumer.rebalance(List.of());
        consumer.commitSync(Map.of(P0, new OffsetAndMetadata(5)));
        consumer.rebalance(List.of(P0));
        assertThat(consumer.position(P0)).isEqualTo(5L);
        assertThat(offsets.replaying(0, 5)).as("the replay ended with the revocation").isFalse();
    }

    @Test
    void unreplicatedCountsEventsWaitingInKafkaAndEventsConsumedButNotDone() {
        assignCommittedAtZero(P0);
        consumer.updateEndOffsets(Map.of(P0, 20L));
        consume(P0, 0, 4);
        offsets.done(0, 0);
        offsets.done(0, 1);
        offsets.done(0, 3);
        assertThat(offsets.lag()).isEqualTo(15L);
        assertThat(offsets.unreplicated()).as("15 in Kafka, 2..4 consumed from the first not done").isEqualTo(18L);
    }
}
