package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class SharedProducerTest {

    @Test
    void itIsMadeOnceOnFirstUseAndClosedOnlyByItsOwner() {
        AtomicInteger made = new AtomicInteger();
        MockProducer<byte[], byte[]> mock = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
        SharedProducer shared = new SharedProducer("agent of host h", () -> {
            made.incrementAndGet();
            return mock;
        });
        assertThat(made).hasValue(0);
        assertThat(shared.get()).isSameAs(mock);
        assertThat(shared.get()).isSameAs(mock);
        assertThat(made).hasValue(1);

        shared.close(Duration.ofSeconds(1));
        shared.close(Duration.ofSeconds(1));
        assertThat(mock.closed()).isTrue();
        assertThatThrownBy(shared::get).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("agent of host h").hasMessageContaining("closed");
    }

    @Test
    void oneNeverMadeIsNotMadeToBeClosed() {
        SharedProducer shared = new SharedProducer("agent of host h", () -> {
            throw new AssertionError("made at close");
        });
        shared.close(Duration.ofSeconds(1));
    }

    @Test
    void onlyFailuresThatNoLaterRecordGetsPastAreFatal() {
        assertThat(ProducerFailure.isFatal(new TopicAuthorizationException("events"))).isTrue();
        assertThat(ProducerFailure.isFatal(new ClusterAuthorizationException("idempotent write"))).isTrue();
        assertThat(ProducerFailure.isFatal(new SaslAuthenticationException("bad password"))).isTrue();
        assertThat(ProducerFailure.isFatal(new KafkaException("wrapped", new TopicAuthorizationException("x"))))
            .isTrue();

        assertThat(ProducerFailure.isFatal(new TimeoutException("metadata"))).isFalse();
        // a sequence gap of one partition: the idempotent producer bumps its epoch; the sender covers the records
        assertThat(ProducerFailure.isFatal(new OutOfOrderSequenceException("gap in partition 3"))).isFalse();
        assertThat(ProducerFailure.isFatal(new NotLeaderOrFollowerException("moved"))).isFalse();
        assertThat(ProducerFailure.isFatal(new RecordTooLargeException("one record"))).isFalse();
        assertThat(ProducerFailure.isFatal(new IllegalStateException("closed"))).isFalse();
    }
}
