package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The event publisher on the agent's shared producer (one-class unit test, mock producer): it leaves the producer
 * open for its owner, keeps an event Kafka refused for now, and ends the process on a failure no rescan gets past.
 */
class EventPublisherSharedProducerTest {
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    private final List<String> fatal = new CopyOnWriteArrayList<>();
    private final SharedProducer shared = new SharedProducer("agent of host h", () -> producer);
    private final EventPublisher publisher = new EventPublisher("h", Topics.withPrefix("t."), shared, false, 100,
        new PrometheusRegistry(), PublishListener.NONE, (component, e) -> fatal.add(component + ": " + e),
        CaptureSequence.unknown(), RecordSigner.NONE);

    @Test
    void eventsGoThroughTheSharedProducerWhichOutlivesThePublisher() {
        publisher.start();
        publisher.accept(event());
        await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);
        publisher.close(Duration.ofSeconds(5));
        assertThat(producer.closed()).as("closed by its owner, not by the publisher").isFalse();
        shared.close(Duration.ofSeconds(1));
        assertThat(producer.closed()).isTrue();
        assertThat(fatal).isEmpty();
    }

    @Test
    void aRefusalForNowIsRetriedButOneForGoodEndsTheProcess() throws Exception {
        producer.sendException = new TimeoutException("no metadata after 2000 ms");
        publisher.start();
        publisher.accept(event());
        Thread.sleep(500); // a few retries
        assertThat(fatal).isEmpty();
        assertThat(publisher.rootsAwaitingRescan()).isEmpty(); // held and retried, not lost

        producer.sendException = new ClusterAuthorizationException("idempotent write");
        await().atMost(Duration.ofSeconds(10)).until(() -> !fatal.isEmpty());
        assertThat(fatal).first().asString().contains("event publisher of host h").contains("ACLs");
        // the event is not silently gone either: its root owes a rescan (the next start's covers it)
        await().atMost(Duration.ofSeconds(10)).until(() -> publisher.rootsAwaitingRescan().contains("r"));
        publisher.close(Duration.ofSeconds(5));
    }

    private static CapturedEvent event() {
        return new CapturedEvent("r", BytePaths.utf8("f"), FileOp.CREATE, false, null, CaptureSource.FANOTIFY, 1,
            CapturedEvent.NO_INODE);
    }
}
