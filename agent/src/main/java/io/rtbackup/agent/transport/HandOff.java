package io.rtbackup.agent.transport;

import java.time.Duration;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Hands one record to the agent's {@link SharedProducer} on the caller's thread, trying again while the producer
 * refuses it for a passing reason before taking it, up to a patience. Used by the senders that have no buffer of
 * their own (command results, root states, reconciliation results); the event publisher keeps its own.
 *
 * <p>Why: the shared producer blocks a send for {@code max.block.ms} (2 s, the events' setting, so the event
 * publisher's buffer logic decides) when it has no metadata for the topic or no room in its pool. After the client
 * found no broker at all, it rebootstraps and forgets every topic's metadata, so while a broker restarts every send
 * is refused with "Topic ... not present in metadata" after 2 s. The results producer of its own, before the producer
 * was shared, blocked 60 s (the client's default) and so rode out a broker restart; a result dropped instead leaves
 * the worker waiting its result timeout (minutes) before it reissues the command.
 *
 * <p>A refusal is told apart from a later failure of a record the producer took by the thread that reports it: the
 * producer reports a refusal through the callback on the sending thread, inside {@code send}. Only a
 * {@link RetriableException} that is not a {@link ProducerFailure} is tried again.
 */
public final class HandOff {
    /** The results producer's block before the producer was shared ({@code max.block.ms}'s default). */
    public static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final long RETRY_MS = 200;

    private HandOff() {
    }

    /**
     * Sends {@code record}; {@code callback} is told the outcome of a record the producer took, never of a refusal.
     *
     * @return null when the producer took the record; else why it did not (not retriable, or still refused when
     *     {@code patience} ran out, or the thread was interrupted while waiting: its flag is set again)
     */
    public static Exception send(Producer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> record,
            Callback callback, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            Attempt a = new Attempt(Thread.currentThread());
            try {
                producer.send(record, (md, ex) -> {
                    if (ex != null && a.refusedNow(ex)) return;
                    callback.onCompletion(md, ex);
                });
            } catch (RuntimeException e) {
                a.error = e;
            }
            a.returned = true;
            Exception e = a.error;
            if (e == null) return null;
            if (!(e instanceof RetriableException) || ProducerFailure.isFatal(e)
                    || System.nanoTime() - deadline >= 0) {
                return e;
            }
            try {
                Thread.sleep(RETRY_MS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return e;
            }
        }
    }

    /** One call of {@code send}: a failure reported on the caller's thread before it returned is a refusal. */
    private static final class Attempt {
        private final Thread caller;
        private volatile boolean returned;
        private Exception error;

        Attempt(Thread caller) {
            this.caller = caller;
        }

        boolean refusedNow(Exception ex) {
            if (returned || Thread.currentThread() != caller) return false;
            error = ex;
            return true;
        }
    }
}
