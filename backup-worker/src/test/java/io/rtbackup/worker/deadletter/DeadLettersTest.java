package io.rtbackup.worker.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.transport.DeadLetter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Dead letters over a sink that holds every send until the test says how it ended (as the producer would). */
class DeadLettersTest {
    private static final long MS = 1_000_000L;

    private record Sent(DeadLetter letter, Consumer<Exception> onDone) {
    }

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final List<Sent> sent = new ArrayList<>();
    private final List<EventRef> stored = new ArrayList<>();
    private final WorkerMetrics metrics = new WorkerMetrics(new PrometheusRegistry());
    private final DeadLetters letters = new DeadLetters("d", "rtb.dlq", (l, onDone) -> sent.add(new Sent(l, onDone)),
        metrics, now::get, stored::add);

    private static ConsumerRecord<byte[], byte[]> record(int partition, long offset) {
        return new ConsumerRecord<>("rtb.events", partition, offset, "k".getBytes(), new byte[] {1, 2, 3});
    }

    private double counted(String kind) {
        return metrics.deadLetters.labelValues("d", kind).get();
    }

    @Test
    void anEventIsDoneOnlyOnceItsLetterIsStored() {
        letters.sendEvent(record(2, 40), DeadLetter.KIND_UNDECODABLE_EVENT, "cannot decode");
        assertThat(sent).singleElement().satisfies(s -> {
            assertThat(s.letter().kind()).isEqualTo(DeadLetter.KIND_UNDECODABLE_EVENT);
            assertThat(s.letter().sourcePartition()).isEqualTo(2);
            assertThat(s.letter().sourceOffset()).isEqualTo(40);
            assertThat(s.letter().value()).containsExactly(1, 2, 3);
        });
        letters.settle();
        assertThat(stored).as("not stored yet").isEmpty();

        sent.get(0).onDone().accept(null);
        assertThat(stored).as("only the pipeline thread acts, in settle()").isEmpty();
        letters.settle();
        assertThat(stored).containsExactly(new EventRef(2, 40));
        assertThat(counted(DeadLetter.KIND_UNDECODABLE_EVENT)).isEqualTo(1.0);
    }

    @Test
    void aLetterTheTopicDidNotTakeIsSentAgainASecondLaterUntilStored() {
        SyncCommand cmd = SyncCommand.newBuilder().setCommandId("c1").setHostId("h1").setRootId("r").setDestination("d")
            .setPaths(List.of()).setIssuedAtMs(0).setReplyTo("w1").build();
        List<EventRef> refs = List.of(new EventRef(0, 5), new EventRef(0, 6));
        letters.sendCommand(cmd, DeadLetter.KIND_REJECTED_COMMAND, "unknown root", refs);
        assertThat(sent.get(0).letter().commandId()).isEqualTo("c1");
        assertThat(sent.get(0).letter().key()).containsExactly("h1".getBytes());

        sent.get(0).onDone().accept(new RuntimeException("broker down"));
        letters.settle();
        now.addAndGet(999 * MS);
        letters.settle();
        assertThat(sent).as("not before a second").hasSize(1);
        now.addAndGet(1 * MS);
        letters.settle();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1).letter()).isSameAs(sent.get(0).letter());
        assertThat(stored).isEmpty();

        sent.get(1).onDone().accept(null);
        letters.settle();
        assertThat(stored).containsExactlyElementsOf(refs);
        assertThat(counted(DeadLetter.KIND_REJECTED_COMMAND)).as("one letter, however often sent").isEqualTo(1.0);
    }
}
