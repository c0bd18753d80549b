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
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** On a real broker: an event that cannot be encoded is a loss like any other, covered by a RESCAN of its root. */
@ExtendWith(KafkaBrokerExtension.class)
class EventPublisherLossTest {

    @Test
    void anEventThatCannotBeEncodedIsCoveredByARescanOfItsRoot(KafkaBroker broker) throws Exception {
        Topics topics = Topics.withPrefix("enc-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        Map<String, String> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
        EventPublisher publisher = new EventPublisher("host-enc", topics,
                ProducerSettings.create(kafka, "host-enc"), 100, new PrometheusRegistry(), fatal);
        try (KafkaConsumer<byte[], byte[]> consumer = CapturePipelineKafkaTest.consumer(broker, topics)) {
            publisher.start();
            // no operation: FileEvent.op is required, so encoding this event fails
            publisher.accept(new CapturedEvent("r1", BytePaths.utf8("broken"), null, false, null,
                    CaptureSource.FANOTIFY, 1, CapturedEvent.NO_INODE));
            publisher.accept(new CapturedEvent("r2", BytePaths.utf8("fine"), FileOp.CREATE, false, null,
                    CaptureSource.FANOTIFY, 2, CapturedEvent.NO_INODE));

            List<CapturePipelineKafkaTest.Got> got = CapturePipelineKafkaTest.readUntil(consumer,
                    g -> g.stream().anyMatch(e -> e.event().getOp() == FileOp.RESCAN)
                            && g.stream().anyMatch(e -> e.event().getOp() == FileOp.CREATE),
                    Duration.ofSeconds(30));

            assertThat(got).filteredOn(e -> e.event().getOp() == FileOp.RESCAN).singleElement().satisfies(e -> {
                assertThat(e.event().getRootId()).isEqualTo("r1");
                assertThat(e.path()).isEmpty();
            });
            assertThat(got).filteredOn(e -> e.event().getOp() == FileOp.CREATE).singleElement()
                    .satisfies(e -> assertThat(e.event().getRootId()).isEqualTo("r2"));
            assertThat(publisher.awaitIdle(Duration.ofSeconds(10))).as("the loss is settled").isTrue();
            assertThat(publisher.rootsAwaitingRescan()).isEmpty();
        } finally {
            publisher.close(Duration.ofSeconds(5));
        }
        fatal.assertNone();
    }
}
