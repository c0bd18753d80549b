package io.rtbackup.agent.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.RootControlState;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The root-state sink on the agent's shared producer: it never closes it; a failure for good ends the process. */
class KafkaStateSinkTest {
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    private final List<String> fatal = new CopyOnWriteArrayList<>();
    private final KafkaStateSink sink = new KafkaStateSink(Topics.withPrefix("t."), producer, RecordSigner.NONE,
        (component, e) -> fatal.add(component + ": " + e), Duration.ofMillis(500));

    @Test
    void aStateIsSentAndTheSharedProducerOutlivesTheSink() {
        sink.publish(state());
        sink.close();
        assertThat(producer.history()).singleElement().satisfies(r -> assertThat(r.topic())
            .isEqualTo(Topics.withPrefix("t.").rootState()));
        assertThat(producer.closed()).isFalse();
    }

    @Test
    void aStateNotDeliveredIsOnlyLoggedButAProducerThatCanNeverSendEndsTheProcess() {
        producer.sendException = new TimeoutException("metadata");
        long t0 = System.nanoTime();
        sink.publish(state());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("tried again for its patience")
            .isGreaterThanOrEqualTo(Duration.ofMillis(500));
        assertThat(fatal).isEmpty();

        producer.sendException = new TopicAuthorizationException("root states");
        sink.publish(state());
        assertThat(fatal).singleElement().asString().contains("root state sink of host h").contains("ACLs");
    }

    private static RootControlState state() {
        return RootControlState.newBuilder().setHostId("h").setRootId("r").setPaused(true).setSinceMs(1)
            .setReason("maintenance").setIssuedBy("op").setAppliedCommandId("c1").setNote("").setPublishedAtMs(2)
            .build();
    }
}
