package io.rtbackup.worker.deadletter;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.transport.DeadLetter;
import io.rtbackup.worker.transport.DeadLetterSink;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's dead letters: events and commands the worker gives up on, with the events each one covers.
 * Those events are done only once the DLQ topic has stored the letter ({@code onStored} is told then); a letter the
 * topic did not take is sent again a second later, for as long as it takes. Dropping it instead would let the
 * offsets move past events that then exist nowhere.
 *
 * <p>Thread-safety: {@link #sendEvent}, {@link #sendCommand} and {@link #settle} run on the pipeline thread; the
 * sink's completion callbacks (a producer thread) only enqueue, and {@link #settle} acts on what they enqueued.
 */
public final class DeadLetters {
    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
    private static final long RETRY_NS = 1_000_000_000L;

    private final String destination;
    private final String topic;
    private final DeadLetterSink sink;
    private final WorkerMetrics metrics;
    private final LongSupplier nanos;
    private final Consumer<EventRef> onStored;
    private final AvroCodec<SyncCommand> commandCodec = AvroCodec.syncCommands();
    private final Queue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final List<Pending> resends = new ArrayList<>();

    /** What the sink said about one letter; {@code error} null when stored. */
    private record Completion(DeadLetter letter, List<EventRef> refs, Exception error) {
    }

    private record Pending(DeadLetter letter, List<EventRef> refs, long dueNs) {
    }

    /**
     * @param topic    the DLQ topic's name, for messages
     * @param onStored runs on the pipeline thread (from {@link #settle}) for each event a stored letter covers
     */
    public DeadLetters(String destination, String topic, DeadLetterSink sink, WorkerMetrics metrics,
                       LongSupplier nanoClock, Consumer<EventRef> onStored) {
        this.destination = destination;
        this.topic = topic;
        this.sink = sink;
        this.metrics = metrics;
        this.nanos = nanoClock;
        this.onStored = onStored;
    }

    /** An event record that cannot be used (kind {@code DeadLetter.KIND_*_EVENT}); it covers itself. */
    public void sendEvent(ConsumerRecord<byte[], byte[]> r, String kind, String reason) {
        log.warn("destination {}: event {}-{}@{} goes to the DLQ ({}): {}", destination, r.topic(), r.partition(),
            r.offset(), kind, reason);
        send(DeadLetter.event(kind, reason, destination, r.topic(), r.partition(), r.offset(), r.key(), r.value()),
            List.of(new EventRef(r.partition(), r.offset())));
    }

    /** A command given up on (kind {@code DeadLetter.KIND_*_COMMAND}), covering the events of its batch. */
    public void sendCommand(SyncCommand command, String kind, String reason, List<EventRef> refs) {
        byte[] key = command.getHostId().getBytes(StandardCharsets.UTF_8);
        send(DeadLetter.command(kind, reason, destination, command.getCommandId(), key, commandCodec.encode(command)),
            List.copyOf(refs));
    }

    /** Marks the events of stored letters done, and sends again the letters whose retry is due. */
    public void settle() {
        Completion c;
        while ((c = completions.poll()) != null) {
            if (c.error() == null) {
                c.refs().forEach(onStored);
            } else {
                log.error("destination {}: cannot write to the DLQ topic {} ({}); retrying in 1 s", destination, topic,
                    c.error().toString());
                resends.add(new Pending(c.letter(), c.refs(), nanos.getAsLong() + RETRY_NS));
            }
        }
        if (resends.isEmpty()) return;
        long now = nanos.getAsLong();
        for (Iterator<Pending> it = resends.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.dueNs() <= now) {
                it.remove();
                transmit(p.letter(), p.refs());
            }
        }
    }

    private void send(DeadLetter letter, List<EventRef> refs) {
        metrics.deadLetters.labelValues(destination, letter.kind()).inc();
        transmit(letter, refs);
    }

    private void transmit(DeadLetter letter, List<EventRef> refs) {
        sink.send(letter, e -> completions.add(new Completion(letter, refs, e)));
    }
}
