package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.CapturePipelineKafkaTest;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a real broker: the publisher holds what capture hands it until its gate opens (the agent's: the command
 * executor reads its partition), so nothing a worker could answer is published before then, and nothing is lost.
 */
@ExtendWith(KafkaBrokerExtension.class)
class EventPublisherGateTest {

    @Test
    void eventsWaitInTheBufferUntilTheGateOpens(KafkaBroker broker) throws Exception {
        Topics topics = Topics.withPrefix("gate-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        Map<String, String> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
        EventPublisher publisher = new EventPublisher("host-gate", topics,
                ProducerSettings.create(kafka, "host-gate"), 100, new PrometheusRegistry(), fatal);
        CountDownLatch gate = new CountDownLatch(1);
        try (KafkaConsumer<byte[], byte[]> consumer = CapturePipelineKafkaTest.consumer(broker, topics)) {
            publisher.start(t -> gate.await(t.toMillis(), TimeUnit.MILLISECONDS), Duration.ofSeconds(60));
            publisher.accept(new CapturedEvent("r1", new byte[0], FileOp.RESCAN, true, null, CaptureSource.FANOTIFY,
                    1, CapturedEvent.NO_INODE));
            publisher.accept(new CapturedEvent("r1", BytePaths.utf8("a"), FileOp.CREATE, false, null,
                    CaptureSource.FANOTIFY, 2, CapturedEvent.NO_INODE));

            // reading from the earliest offset once assigned: whatever was sent early is read in the next 2 s
            long joinBy = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.assignment().isEmpty() && System.nanoTime() < joinBy) {
                assertThat(consumer.poll(Duration.ofMillis(100)).count()).isZero();
            }
            assertThat(consumer.assignment()).as("the test consumer joined").isNotEmpty();
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                assertThat(consumer.poll(Duration.ofMillis(200)).count()).as("nothing is sent while the gate is closed")
                        .isZero();
            }
            assertThat(publisher.queued()).isEqualTo(2);

            gate.countDown();
            List<CapturePipelineKafkaTest.Got> got = CapturePipelineKafkaTest.readUntil(consumer,
                    g -> g.size() >= 2, Duration.ofSeconds(30));
            assertThat(got).extracting(g -> g.event().getOp()).containsExactlyInAnyOrder(FileOp.RESCAN, FileOp.CREATE);
            assertThat(publisher.rootsAwaitingRescan()).isEmpty();
        } finally {
            publisher.close(Duration.ofSeconds(5));
        }
        fatal.assertNone();
    }

    @Test
    void aGateThatNeverOpensIsPassedAfterTheLongestHold(KafkaBroker broker) throws Exception {
        Topics topics = Topics.withPrefix("gate-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        Map<String, String> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
        EventPublisher publisher = new EventPublisher("host-gate", topics,
                ProducerSettings.create(kafka, "host-gate"), 100, new PrometheusRegistry(), fatal);
        try (KafkaConsumer<byte[], byte[]> consumer = CapturePipelineKafkaTest.consumer(broker, topics)) {
            publisher.start(t -> {
                Thread.sleep(t.toMillis());
                return false;
            }, Duration.ofMillis(500));
            publisher.accept(new CapturedEvent("r1", BytePaths.utf8("a"), FileOp.CREATE, false, null,
                    CaptureSource.FANOTIFY, 1, CapturedEvent.NO_INODE));
            assertThat(CapturePipelineKafkaTest.readUntil(consumer, g -> !g.isEmpty(), Duration.ofSeconds(30)))
                    .singleElement().satisfies(g -> assertThat(g.event().getOp()).isEqualTo(FileOp.CREATE));
        } finally {
            publisher.close(Duration.ofSeconds(5));
        }
        fatal.assertNone();
    }
}
