package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.CapturePipelineKafkaTest;
import io.rtbackup.agent.CapturePipelineKafkaTest.Got;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.CapturePosition;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a real broker: while the publisher cannot send (its gate is closed, as when it is behind), an event identical
 * to one still waiting is merged into it; the buffer's bound counts distinct events; a merged event is numbered
 * when sent, after every change it stands for, and keeps the first change's capture time.
 */
@ExtendWith(KafkaBrokerExtension.class)
class EventPublisherMergeTest {

    private static final long INCARNATION = 5;

    @Test
    void duplicatesBeyondTheBufferSizeAreMergedNotTurnedIntoARescan(KafkaBroker broker) throws Exception {
        try (Fixture f = new Fixture(broker, 3)) {
            for (int i = 0; i < 20; i++) f.publisher.accept(event("r1", i % 2 == 0 ? "a" : "b", FileOp.CLOSE_WRITE,
                    null, 1_000 + i));

            assertThat(f.publisher.queued()).as("one entry per distinct event").isEqualTo(2);
            assertThat(f.publisher.rootsAwaitingRescan()).as("nothing lost").isEmpty();
            assertThat(counter(f.registry, "rtb_agent_publish_merged", "fanotify")).isEqualTo(18);
            assertThat(counter(f.registry, "rtb_agent_events_dropped_to_rescan", "fanotify")).isZero();

            f.gate.countDown();
            List<Got> got = f.readUntil(g -> g.size() >= 2);
            f.assertNothingMoreArrives();
            assertThat(got).extracting(g -> BytePaths.show(g.path())).containsExactlyInAnyOrder("a", "b");
            assertThat(got).allSatisfy(g -> assertThat(g.event().getOp()).isEqualTo(FileOp.CLOSE_WRITE));
            // the first change's capture time: latency is measured from the oldest change the event stands for
            assertThat(got).extracting(g -> g.event().getEventTimeNs()).containsExactlyInAnyOrder(1_000L, 1_001L);
            assertThat(f.publisher.awaitIdle(Duration.ofSeconds(10))).isTrue();
            assertThat(counter(f.registry, "rtb_agent_events_published", "fanotify")).isEqualTo(2);
        }
    }

    @Test
    void aMergedEventIsNumberedWhenSentSoASyncStartedBeforeTheLaterChangeDoesNotCoverIt(KafkaBroker broker)
            throws Exception {
        try (Fixture f = new Fixture(broker, 10)) {
            f.publisher.accept(event("r1", "a", FileOp.CLOSE_WRITE, null, 1));
            // a sync of "a" starts here: the executor reads how far capture is numbered
            CapturePosition syncStart = f.sequence.assignedSoFar();
            f.publisher.accept(event("r1", "a", FileOp.CLOSE_WRITE, null, 2)); // changed again during the sync
            assertThat(f.publisher.queued()).isEqualTo(1);

            f.gate.countDown();
            Got a = f.readUntil(g -> !g.isEmpty()).get(0);
            assertThat(a.event().getIncarnation()).isEqualTo(INCARNATION);
            assertThat(syncStart.covers(CapturePosition.of(a.event())))
                    .as("the event standing for the second change is not covered by a sync that started before it")
                    .isFalse();
        }
    }

    @Test
    void distinctEventsAreNotMergedAndLeaveInTheOrderTheyCame(KafkaBroker broker) throws Exception {
        try (Fixture f = new Fixture(broker, 100)) {
            List<CapturedEvent> distinct = List.of(
                    event("r1", "a", FileOp.CREATE, null, 1),
                    event("r1", "a", FileOp.CLOSE_WRITE, null, 2),
                    event("r1", "a", FileOp.MOVE_FROM, "b", 3),
                    event("r1", "b", FileOp.MOVE_TO, "a", 4),
                    event("r1", "a", FileOp.MOVE_FROM, "c", 5),
                    new CapturedEvent("r1", BytePaths.utf8("a"), FileOp.CLOSE_WRITE, true, null,
                            CaptureSource.FANOTIFY, 6, CapturedEvent.NO_INODE),
                    event("r2", "a", FileOp.CLOSE_WRITE, null, 7),
                    event("r1", "a", FileOp.DELETE, null, 8));
            for (CapturedEvent e : distinct) {
                f.publisher.accept(e);
                f.publisher.accept(event(e.rootId(), "a", FileOp.CREATE, null, 99)); // merges into the first
            }
            assertThat(f.publisher.queued()).isEqualTo(distinct.size() + 1); // r2's CREATE of "a" is new once

            f.gate.countDown();
            List<Got> got = f.readUntil(g -> g.size() >= distinct.size() + 1);
            f.assertNothingMoreArrives();
            // partitions do not keep an order between paths; the sequence numbers, taken when sent, do
            got.sort(Comparator.comparingLong(g -> g.event().getSeq()));
            assertThat(got).extracting(g -> g.event().getRootId() + " " + g.event().getOp() + " "
                    + BytePaths.show(g.path()) + (g.event().getDirectory() ? "/" : "")
                    + (g.event().getOtherPath() == null ? "" : " <-> " + BytePaths.show(
                            bytes(g.event().getOtherPath()))))
                    .containsExactly("r1 CREATE a", "r1 CLOSE_WRITE a", "r1 MOVE_FROM a <-> b", "r1 MOVE_TO b <-> a",
                            "r1 MOVE_FROM a <-> c", "r1 CLOSE_WRITE a/", "r2 CLOSE_WRITE a", "r2 CREATE a",
                            "r1 DELETE a");
        }
    }

    @Test
    void aFullBufferOfDistinctEventsStillCostsARescanOfTheRoot(KafkaBroker broker) throws Exception {
        try (Fixture f = new Fixture(broker, 3)) {
            f.publisher.accept(event("r2", "a", FileOp.CLOSE_WRITE, null, 1));
            f.publisher.accept(event("r2", "b", FileOp.CLOSE_WRITE, null, 2));
            f.publisher.accept(event("r1", "c", FileOp.CLOSE_WRITE, null, 3));
            f.publisher.accept(event("r1", "d", FileOp.CLOSE_WRITE, null, 4)); // a fourth distinct event: lost
            f.publisher.accept(event("r2", "a", FileOp.CLOSE_WRITE, null, 5)); // a duplicate: merged even when full
            assertThat(f.publisher.rootsAwaitingRescan()).containsExactly("r1");
            assertThat(counter(f.registry, "rtb_agent_events_dropped_to_rescan", "fanotify")).isEqualTo(1);
            assertThat(counter(f.registry, "rtb_agent_publish_merged", "fanotify")).isEqualTo(1);

            f.gate.countDown();
            List<Got> got = f.readUntil(g -> g.size() >= 4);
            assertThat(got).filteredOn(g -> g.event().getOp() == FileOp.RESCAN).singleElement().satisfies(g -> {
                assertThat(g.event().getRootId()).isEqualTo("r1");
                assertThat(g.path()).isEmpty();
            });
            assertThat(got).filteredOn(g -> g.event().getOp() == FileOp.CLOSE_WRITE)
                    .extracting(g -> g.event().getRootId() + ":" + BytePaths.show(g.path()))
                    .containsExactlyInAnyOrder("r2:a", "r2:b", "r1:c");
            assertThat(f.publisher.awaitIdle(Duration.ofSeconds(10))).as("the loss is settled").isTrue();
            assertThat(f.publisher.rootsAwaitingRescan()).isEmpty();
        }
    }

    private static CapturedEvent event(String root, String path, FileOp op, String other, long timeNs) {
        return new CapturedEvent(root, BytePaths.utf8(path), op, false, other == null ? null : BytePaths.utf8(other),
                CaptureSource.FANOTIFY, timeNs, CapturedEvent.NO_INODE);
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static double counter(PrometheusRegistry registry, String name, String source) {
        for (MetricSnapshot s : registry.scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
                return c.getDataPoints().stream().filter(d -> source.equals(d.getLabels().get("source")))
                        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
            }
        }
        throw new AssertionError("no counter " + name);
    }

    /** A publisher whose gate stays closed until the test opens it, and a consumer of its topic. */
    private static final class Fixture implements AutoCloseable {
        final PrometheusRegistry registry = new PrometheusRegistry();
        final CaptureSequence sequence = new CaptureSequence(INCARNATION);
        final CountDownLatch gate = new CountDownLatch(1);
        final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        final EventPublisher publisher;
        final KafkaConsumer<byte[], byte[]> consumer;

        Fixture(KafkaBroker broker, int bufferEvents) throws Exception {
            Topics topics = Topics.withPrefix("merge-" + UUID.randomUUID().toString().substring(0, 8) + ".");
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            Map<String, String> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
            var producer = ProducerSettings.create(kafka, "host-merge");
            publisher = new EventPublisher("host-merge", topics, () -> producer, true, bufferEvents, registry,
                    PublishListener.NONE, fatal, sequence, RecordSigner.NONE);
            consumer = CapturePipelineKafkaTest.consumer(broker, topics);
            publisher.start(t -> gate.await(t.toMillis(), TimeUnit.MILLISECONDS), Duration.ofSeconds(60));
        }

        List<Got> readUntil(java.util.function.Predicate<List<Got>> done) {
            return new java.util.ArrayList<>(CapturePipelineKafkaTest.readUntil(consumer, done,
                    Duration.ofSeconds(30)));
        }

        void assertNothingMoreArrives() {
            assertThat(consumer.poll(Duration.ofMillis(500)).count()).isZero();
        }

        @Override
        public void close() {
            consumer.close();
            publisher.close(Duration.ofSeconds(5));
            fatal.assertNone();
        }
    }
}
