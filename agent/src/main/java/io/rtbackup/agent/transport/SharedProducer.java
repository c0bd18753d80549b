package io.rtbackup.agent.transport;

import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one Kafka producer, shared by everything it publishes: captured events ({@link EventPublisher}),
 * command results, root pause states and reconciliation results. One producer means one sender thread, one buffer
 * pool, one metadata cache and one connection per broker instead of four of each.
 *
 * <p>Its settings are the events' ({@link ProducerSettings#properties}), which suit the others too: they were
 * idempotent with {@code acks=all} already; their records are small (64 KiB batches and the 4 MiB pool only bound
 * what they hold); a send blocks at most {@code max.block.ms} (2 s) when the pool is full or metadata is missing,
 * after which it fails like any other undelivered record (results: the worker reissues the command; events: a
 * rescan). Records of different topics never wait for each other (no linger; one request in flight at a time).
 *
 * <p>Ownership: made on first use ({@link #get()}, normally by the event publisher's sender thread, so building it
 * never delays capture) and closed once by its owner ({@link #close(Duration)}, the agent, after every user
 * stopped). Users never close it. Thread-safe.
 */
public final class SharedProducer implements Supplier<Producer<byte[], byte[]>> {
    private static final Logger log = LoggerFactory.getLogger(SharedProducer.class);

    private final String owner;
    private final Supplier<Producer<byte[], byte[]>> factory;
    private Producer<byte[], byte[]> producer;
    private boolean closed;

    /**
     * @param owner   names whose producer it is in logs and errors, e.g. {@code "agent of host h1"}
     * @param factory makes the producer, once, on the first {@link #get()}
     */
    public SharedProducer(String owner, Supplier<Producer<byte[], byte[]>> factory) {
        this.owner = owner;
        this.factory = factory;
    }

    /** The producer, made now if it was not yet; for sending and flushing only, never for closing. */
    @Override
    public synchronized Producer<byte[], byte[]> get() {
        if (closed) throw new IllegalStateException("the Kafka producer of the " + owner + " is closed");
        if (producer == null) producer = factory.get();
        return producer;
    }

    /** Sends what is buffered (bounded by {@code timeout}) and closes the producer, if it was made; idempotent. */
    public void close(Duration timeout) {
        Producer<byte[], byte[]> p;
        synchronized (this) {
            if (closed) return;
            closed = true;
            p = producer;
        }
        if (p == null) return;
        try {
            p.close(timeout);
        } catch (RuntimeException e) {
            // at exit: what it still held is covered by the next start (rescan, uncommitted commands)
            log.warn("{}: closing the Kafka producer failed: {}", owner, e.toString());
        }
    }
}
