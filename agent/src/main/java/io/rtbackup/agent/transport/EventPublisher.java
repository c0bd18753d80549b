package io.rtbackup.agent.transport;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.event.EventSink;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes captured events to the events topic. Capture never waits for Kafka: events go into a bounded buffer
 * that one sender thread drains into an idempotent producer (acks=all, uncompressed, no linger:
 * {@link ProducerSettings}). An event identical to one still waiting there is merged into it ({@link PendingHints}),
 * so a publisher that is behind sends, signs and numbers each distinct event once. When the buffer is full or Kafka
 * gives up on a record, the event's root is marked as having lost events; a {@code RESCAN} of that
 * root is published, and the mark is cleared only when Kafka acknowledged a rescan after the loss. An event that
 * cannot be encoded is such a loss too. Nothing is dropped without a rescan covering it; when not even the
 * rescan can be encoded, or the sender thread fails in any other unexpected way, the {@link FatalErrorHandler}
 * ends the process (the next start-up rescan covers the roots).
 *
 * <p>Key: {@link EventKey} (host id, NUL, root id, NUL, path bytes): one path always lands on one partition.
 */
public final class EventPublisher implements EventSink, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
    private static final byte[] EMPTY = new byte[0];

    private final String hostId;
    private final String topic;
    private final Supplier<Producer<byte[], byte[]>> producerFactory;
    /** False for the agent's {@link SharedProducer}, which its owner closes. */
    private final boolean closesProducer;
    /** Made by the sender thread before its first send, so building it (class loading, mostly) never delays capture. */
    private volatile Producer<byte[], byte[]> producer;
    private final AvroCodec<FileEvent> codec = AvroCodec.fileEvents();
    private final PendingHints pending;
    private final Duration retryBackoff;
    private final PublishListener listener;
    private final FatalErrorHandler fatal;
    private final RecordSigner signer;

    /** Roots that lost events, with the loss that a later acknowledged rescan must follow. */
    private final ConcurrentHashMap<String, Loss> lost = new ConcurrentHashMap<>();
    private final Set<String> rescanInFlight = ConcurrentHashMap.newKeySet();
    private final CaptureSequence sequence;
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();

    private final PublisherMetrics metrics;

    private volatile boolean accepting = true;
    private volatile boolean running;
    private Thread sender;
    private volatile long lastErrorLogNs;
    // a send that fails inside producer.send() (no metadata yet) reports through the callback on our thread
    private boolean inSend;
    private Exception syncError;

    private record Loss(CaptureSource source, long atNs) {}

    /**
     * @param producer     a producer configured with {@link ProducerSettings#properties}; closed by
     *     {@link #close()}
     * @param bufferEvents distinct events held while Kafka is slow or away; beyond that the root is rescanned
     * @param fatal        told when the sender thread fails in a way no rescan covers (it stops right after)
     */
    public EventPublisher(String hostId, Topics topics, Producer<byte[], byte[]> producer, int bufferEvents,
            PrometheusRegistry registry, FatalErrorHandler fatal) {
        this(hostId, topics, producer, bufferEvents, registry, PublishListener.NONE, fatal);
    }

    /** An unsigned publisher without a capture order (tests and benchmarks), closing {@code producer}. */
    public EventPublisher(String hostId, Topics topics, Producer<byte[], byte[]> producer, int bufferEvents,
            PrometheusRegistry registry, PublishListener listener, FatalErrorHandler fatal) {
        this(hostId, topics, () -> producer, true, bufferEvents, registry, listener, fatal, CaptureSequence.unknown(),
                RecordSigner.NONE);
        this.producer = producer; // closed by close() even when never started
    }

    /**
     * @param producer makes the producer (configured with {@link ProducerSettings#properties}) on the sender thread
     *     when it starts, or hands over the agent's {@link SharedProducer}; a failure there goes to {@code fatal}
     * @param closesProducer whether {@link #close} closes it (false for a shared producer: its owner does)
     * @param signer signs every event with this host's key (workers accept only events their host signed)
     */
    public EventPublisher(String hostId, Topics topics, Supplier<Producer<byte[], byte[]>> producer,
            boolean closesProducer, int bufferEvents, PrometheusRegistry registry, PublishListener listener,
            FatalErrorHandler fatal, CaptureSequence sequence, RecordSigner signer) {
        this.closesProducer = closesProducer;
        this.signer = signer;
        this.listener = listener;
        this.fatal = fatal;
        this.sequence = sequence;
        this.hostId = hostId;
        this.topic = topics.events();
        this.producerFactory = producer;
        this.pending = new PendingHints(bufferEvents);
        this.retryBackoff = Duration.ofMillis(200);
        this.metrics = new PublisherMetrics(registry, pending::size);
    }

    public synchronized void start() {
        start(PublishGate.OPEN, Duration.ZERO);
    }

    /**
     * Starts the sender thread, which holds every event in the buffer until {@code gate} opens or {@code maxHold}
     * passed (then it warns and sends anyway, as a publisher that never sent would only turn the whole start into
     * rescans). Events accepted meanwhile are kept, up to the buffer's size; beyond it their roots are rescanned
     * once sending starts, as when Kafka is away.
     */
    public synchronized void start(PublishGate gate, Duration maxHold) {
        if (running) return;
        running = true;
        sender = new Thread(fatal.guard("event publisher of host " + hostId, () -> {
            if (producer == null) producer = producerFactory.get();
            if (awaitGate(gate, maxHold)) sendLoop();
            else drainToLost("the agent stopped before its first send");
        }), "rtb-publisher");
        sender.setDaemon(true);
        sender.start();
    }

    @Override
    public void accept(CapturedEvent event) {
        if (!accepting) {
            markLost(event.rootId(), event.source(), "the publisher is stopping");
            return;
        }
        PendingHints.Offer offer = pending.offer(event);
        if (offer == PendingHints.Offer.MERGED) {
            metrics.merged(event.source());
        } else if (offer == PendingHints.Offer.FULL) {
            markLost(event.rootId(), event.source(), "the publish buffer of " + pending.capacity()
                    + " distinct events is full");
        }
    }

    /** Distinct events waiting in the buffer (duplicates merged). */
    public int queued() {
        return pending.size();
    }

    /** Roots waiting for a rescan because they lost events. */
    public Set<String> rootsAwaitingRescan() {
        return Set.copyOf(lost.keySet());
    }

    /** Events acknowledged by Kafka since start. */
    public long acknowledged() {
        return acked.get();
    }

    private void markLost(String rootId, CaptureSource source, String why) {
        metrics.dropped(source);
        Loss previous = lost.put(rootId, new Loss(source, System.nanoTime()));
        if (previous == null) {
            log.warn("host {} root {}: events not delivered ({}); a RESCAN of the root will follow", hostId, rootId,
                    why);
        }
    }

    private void sendLoop() {
        CapturedEvent held = null;
        while (running || held != null || !pending.isEmpty()) {
            try {
                if (held == null) sendRescans();
                CapturedEvent ev = held != null ? held : pending.poll(20, TimeUnit.MILLISECONDS);
                if (ev == null) continue;
                held = ev; // until the producer took it: a failure below marks its root as lost
                if (trySend(ev, false)) {
                    held = null;
                } else {
                    if (!running) {
                        markLost(ev.rootId(), ev.source(), "the agent is stopping and Kafka is unreachable");
                        drainToLost("the agent is stopping and Kafka is unreachable");
                        return;
                    }
                    Thread.sleep(retryBackoff.toMillis());
                }
            } catch (InterruptedException e) {
                if (held != null) markLost(held.rootId(), held.source(), "the publisher was interrupted");
                drainToLost("the publisher was interrupted");
                return;
            } catch (RuntimeException e) {
                // Events of single paths become rescans in trySend; what gets here (a rescan that cannot be
                // encoded, a bug in the loop) leaves no way to cover the loss from inside this process.
                fatal.fatal("event publisher of host " + hostId, e);
                if (held != null) markLost(held.rootId(), held.source(), "the publisher failed");
                running = false;
                accepting = false;
                drainToLost("the publisher failed");
                return;
            }
        }
    }

    /** Waits for {@code gate} in short slices so that {@link #close} is not held up; false once closed. */
    private boolean awaitGate(PublishGate gate, Duration maxHold) {
        long deadline = System.nanoTime() + maxHold.toNanos();
        Duration slice = Duration.ofMillis(100);
        try {
            while (running) {
                if (gate.await(slice)) return true;
                if (System.nanoTime() - deadline >= 0) {
                    log.warn("host {}: sending events although the gate is still closed after {} s (the command "
                            + "executor has no partition of the commands topic; commands answering these events may "
                            + "wait for the worker's retry)", hostId, maxHold.toSeconds());
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private void drainToLost(String why) {
        CapturedEvent ev;
        while ((ev = pending.poll()) != null) markLost(ev.rootId(), ev.source(), why);
    }

    private void sendRescans() {
        if (lost.isEmpty()) return;
        for (Map.Entry<String, Loss> e : new HashMap<>(lost).entrySet()) {
            String rootId = e.getKey();
            if (!rescanInFlight.add(rootId)) continue;
            CapturedEvent rescan = new CapturedEvent(rootId, EMPTY, FileOp.RESCAN, true, null, e.getValue().source(),
                    nowNs(), CapturedEvent.NO_INODE);
            if (!trySend(rescan, true)) {
                rescanInFlight.remove(rootId);
                return; // Kafka still away; the buffer keeps filling, we try again after the backoff
            }
        }
    }

    /**
     * Hands one event to the producer; false when the producer would not take it now. An event that cannot be
     * encoded is lost and its root rescanned; a rescan that cannot be encoded throws.
     */
    private boolean trySend(CapturedEvent ev, boolean rescanAfterLoss) {
        byte[] value;
        byte[] key;
        Headers signature;
        try {
            value = encode(ev);
            key = key(ev);
            signature = signer.sign(topic, key, value);
        } catch (RuntimeException e) {
            if (rescanAfterLoss) throw e;
            log.error("host {} root {}: event {} cannot be encoded; a RESCAN of the root covers it", hostId,
                    ev.rootId(), ev, e);
            markLost(ev.rootId(), ev.source(), "an event could not be encoded: " + e);
            return true;
        }
        long sentNs = System.nanoTime();
        try {
            inFlight.incrementAndGet();
            inSend = true;
            syncError = null;
            producer.send(new ProducerRecord<>(topic, null, key, value, signature), (md, err) -> {
                inFlight.decrementAndGet();
                if (err != null && Thread.currentThread() == sender && inSend) {
                    if (rescanAfterLoss) rescanInFlight.remove(ev.rootId());
                    syncError = err;
                    return;
                }
                if (err == null) {
                    acked.incrementAndGet();
                    metrics.published(ev.source());
                    // from the first change a merged event stands for (PendingHints keeps the first capture time)
                    long latencyNs = Math.max(0, nowNs() - ev.timeNs());
                    metrics.latency.observe(latencyNs / 1e9);
                    listener.acknowledged(ev, latencyNs);
                    if (rescanAfterLoss) {
                        rescanInFlight.remove(ev.rootId());
                        metrics.rescansAfterLoss.inc();
                        // covers every loss recorded before this acknowledgement
                        lost.computeIfPresent(ev.rootId(), (k, loss) -> loss.atNs() - sentNs <= 0 ? null : loss);
                        log.info("host {} root {}: RESCAN after lost events acknowledged by Kafka", hostId,
                                ev.rootId());
                    }
                } else {
                    metrics.publishErrors.inc();
                    if (rescanAfterLoss) rescanInFlight.remove(ev.rootId());
                    if (ProducerFailure.isFatal(err)) {
                        fatal.fatal("event publisher of host " + hostId, new IllegalStateException(
                                ProducerFailure.advice(err), err));
                    }
                    logError("Kafka did not acknowledge an event of root " + ev.rootId(), err);
                    markLost(ev.rootId(), ev.source(), err.getClass().getSimpleName() + ": " + err.getMessage());
                }
            });
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            syncError = e;
        } finally {
            inSend = false;
        }
        Exception e = syncError;
        syncError = null;
        if (e == null) return true;
        metrics.publishErrors.inc();
        // no rescan gets past these: sendLoop hands it to fatal and the process ends
        if (ProducerFailure.isFatal(e)) throw new IllegalStateException(ProducerFailure.advice(e), e);
        logError("Kafka refused an event of root " + ev.rootId() + " (is the broker reachable?)", e);
        if (e instanceof RetriableException) return false; // keep it and try again
        markLost(ev.rootId(), ev.source(), e.getClass().getSimpleName() + ": " + e.getMessage());
        return true;
    }

    private byte[] encode(CapturedEvent ev) {
        // numbered when sent, after capture (of every change a merged event stands for): a sync that read the
        // counter before this cannot have missed the change
        long s = sequence.next();
        // the all-args constructor: the builder's per-field default handling costs more than the encoding
        FileEvent fe = new FileEvent(hostId, ev.rootId(), ByteBuffer.wrap(ev.path()), ev.op(), ev.directory(),
                ev.otherPath() == null ? null : ByteBuffer.wrap(ev.otherPath()), ev.source(), s, ev.timeNs(), null,
                null, ev.inode() < 0 ? null : ev.inode(), sequence.incarnation());
        return codec.encode(fe);
    }

    private byte[] key(CapturedEvent ev) {
        return EventKey.of(hostId, ev.rootId(), ev.path());
    }

    private void logError(String what, Throwable e) {
        long now = System.nanoTime();
        if (now - lastErrorLogNs > 5_000_000_000L) { // one line per 5 s while Kafka is away
            lastErrorLogNs = now;
            log.warn("host {}: {}: {}", hostId, what, e.toString());
        }
    }

    private static long nowNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Waits until the buffer is empty and Kafka acknowledged everything handed to it, or the timeout passes. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (pending.isEmpty() && inFlight.get() == 0 && lost.isEmpty()) return true;
            Thread.sleep(10);
        }
        return false;
    }

    /**
     * Stops taking events, hands what is buffered to the producer (bounded by {@code timeout}) and closes it when
     * it is its own; a shared producer sends it when its owner closes it.
     */
    public void close(Duration timeout) {
        accepting = false;
        Thread t;
        synchronized (this) {
            running = false;
            t = sender;
        }
        if (t != null) {
            try {
                t.join(timeout.toMillis());
                if (t.isAlive()) t.interrupt();
                t.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Producer<byte[], byte[]> p = producer;
        if (p != null && closesProducer) p.close(timeout);
        if (!lost.isEmpty()) {
            log.warn("host {}: stopping with roots {} still owing a RESCAN; the start-up rescan covers them",
                    hostId, lost.keySet());
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
