package io.rtbackup.worker.signing;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.signing.RecordSignature;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.RejectReason;
import io.rtbackup.schema.signing.Verification;
import io.rtbackup.worker.transport.DeadLetter;
import io.rtbackup.worker.transport.DeadLetterSink;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's rule for whose events and results count: an event or a result must be signed by the host it names
 * (the owner of the signing key in {@code signing.keyring} is that host id; a RESCAN event by any key of the
 * keyring, see {@link #eventRefusal}), or, without a keyring or with
 * {@code signing.required=false}, carry no signature at all. A refused record changes nothing: an event goes to the
 * DLQ (kind {@value #UNAUTHENTICATED_EVENT}; the pipeline goes on), a result is not used (the command it claims to
 * answer times out and is retried; kind {@value #UNAUTHENTICATED_RESULT} in the DLQ). Each refusal is counted in
 * {@code rtb_worker_records_rejected_total{records,reason}}.
 *
 * <p>An event is read by every destination's pipeline; its verdict is computed once and kept (the last
 * {@value #VERDICTS} events) for the others. A polled batch's verdicts can be computed ahead on more cores
 * ({@link #verifyAhead}); whatever that left out is verified when asked for, so it only ever saves time. Thread-safe.
 */
public final class RecordAuthenticity {
    private static final Logger log = LoggerFactory.getLogger(RecordAuthenticity.class);
    public static final String UNAUTHENTICATED_EVENT = DeadLetter.KIND_UNAUTHENTICATED_EVENT;
    public static final String UNAUTHENTICATED_RESULT = DeadLetter.KIND_UNAUTHENTICATED_RESULT;
    static final int VERDICTS = 65_536;
    /** Batches smaller than this are verified where they are used: handing them over costs more than it saves. */
    static final int AHEAD_MIN_RECORDS = 8;

    /** Why a record is refused: the reason (metric label) and what was wrong (for the DLQ and the log). */
    public record Refusal(RejectReason reason, String detail) {
        public String text() {
            return reason.label() + ": " + detail;
        }
    }

    private record Place(String topic, int partition, long offset) {
    }

    private record Cached(byte[] signature, Verification verdict) {
    }

    private final RecordVerifier verifier;
    private final Counter rejected;
    private final DeadLetterSink deadLetters;
    private final String workerId;
    /** Runs {@link #verifyAhead}'s helpers; null: none, every verdict is computed where it is used. */
    private final Executor ahead;
    private final int aheadThreads;
    private final Map<Place, Cached> verdicts = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Place, Cached> eldest) {
            return size() > VERDICTS;
        }
    };

    private RecordAuthenticity(RecordVerifier verifier, Counter rejected, DeadLetterSink deadLetters,
                               String workerId, Executor ahead, int aheadThreads) {
        this.ahead = ahead;
        this.aheadThreads = ahead == null ? 0 : aheadThreads;
        this.verifier = verifier;
        this.rejected = rejected;
        this.deadLetters = deadLetters;
        this.workerId = workerId;
    }

    /** Accepts every record and counts nothing (no keyring; tests). */
    public static RecordAuthenticity none() {
        return new RecordAuthenticity(RecordVerifier.NONE, null, null, "", null, 0);
    }

    /**
     * @param deadLetters where refused results are written (refused events go through their pipeline's DLQ)
     */
    public static RecordAuthenticity of(String workerId, RecordVerifier verifier, PrometheusRegistry registry,
                                        DeadLetterSink deadLetters) {
        return of(workerId, verifier, registry, deadLetters, null, 0);
    }

    /**
     * @param ahead        runs {@link #verifyAhead}'s helpers (null: none)
     * @param aheadThreads how many of {@code ahead}'s threads one batch may use beside the caller's
     */
    public static RecordAuthenticity of(String workerId, RecordVerifier verifier, PrometheusRegistry registry,
                                        DeadLetterSink deadLetters, Executor ahead, int aheadThreads) {
        Counter c = Counter.builder().name("rtb_worker_records_rejected_total")
            .help("Events and results refused because they were not signed by the host they name, by kind of "
                + "record and reason")
            .labelNames("records", "reason").register(registry);
        for (RejectReason r : RejectReason.values()) {
            c.labelValues("events", r.label());
            c.labelValues("results", r.label());
        }
        return new RecordAuthenticity(verifier, c, deadLetters, workerId, ahead, aheadThreads);
    }

    /**
     * Why the event record {@code r} about host {@code host} must not be used; empty when it may.
     *
     * @param rescan the event is a RESCAN: any key of the keyring may sign it (an operator's {@code rtb dlq replay}
     *               signs with a key of its own); a rescan only makes the host's own agent sync the current state of
     *               its own paths again, so whoever holds a trusted key may ask for one
     */
    public Optional<Refusal> eventRefusal(ConsumerRecord<byte[], byte[]> r, String host, boolean rescan) {
        if (!verifier.verifies()) return Optional.empty();
        Verification v = cachedVerdict(r);
        if (v instanceof Verification.Verified ok && !ok.principal().equals(host) && !rescan) {
            return Optional.of(count("events", new Refusal(RejectReason.WRONG_SIGNER, "signed by '" + ok.principal()
                + "' (key " + ok.keyId() + "), but the event is about host '" + host + "'")));
        }
        if (v instanceof Verification.Refused no) return Optional.of(count("events", new Refusal(no.reason(),
            no.detail())));
        return Optional.empty();
    }

    /**
     * Whether the result record {@code r} (decoded as {@code result}) may be used; a refused one is logged, counted
     * and written to the DLQ here.
     */
    public boolean admitResult(ConsumerRecord<byte[], byte[]> r, SyncResult result) {
        if (!verifier.verifies()) return true;
        Verification v = verifier.verifyAs(r, result.getHostId());
        if (!(v instanceof Verification.Refused no)) return true;
        Refusal refusal = count("results", new Refusal(no.reason(), no.detail()));
        log.warn("worker {}: result {}-{}@{} for command {} of host '{}' not used ({}); its command is retried when "
            + "its result times out", workerId, r.topic(), r.partition(), r.offset(), result.getCommandId(),
            result.getHostId(), refusal.text());
        if (deadLetters != null) {
            deadLetters.send(new DeadLetter(UNAUTHENTICATED_RESULT, refusal.text(), result.getDestination(), r.key(),
                r.value(), r.topic(), r.partition(), r.offset(), result.getCommandId()), e -> {
                    // Only the evidence is lost: the result itself is not used either way.
                    if (e != null) log.warn("worker {}: refused result {} not written to the DLQ: {}", workerId,
                        result.getCommandId(), e.toString());
                });
        }
        return false;
    }

    /**
     * Computes the verdicts of {@code records} on the caller's thread and up to {@code aheadThreads} of the pool at
     * once, and returns when all are known (or the caller is interrupted: what is left is verified when used). A
     * storm's events otherwise wait for one pipeline thread to verify them one by one. Does nothing without a
     * pool, without a keyring, or for fewer than {@value #AHEAD_MIN_RECORDS} records.
     */
    public void verifyAhead(Iterable<ConsumerRecord<byte[], byte[]>> records) {
        if (ahead == null || !verifier.verifies()) return;
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
        records.forEach(batch::add);
        if (batch.size() < AHEAD_MIN_RECORDS) return;
        AtomicInteger next = new AtomicInteger();
        Runnable work = () -> {
            for (int i; (i = next.getAndIncrement()) < batch.size(); ) cachedVerdict(batch.get(i));
        };
        List<FutureTask<Void>> helpers = new ArrayList<>();
        for (int k = 0; k < Math.min(aheadThreads, batch.size() / AHEAD_MIN_RECORDS); k++) {
            FutureTask<Void> helper = new FutureTask<>(work, null);
            try {
                ahead.execute(helper);
            } catch (RejectedExecutionException e) {
                break; // the pool is shutting down: the caller does the rest
            }
            helpers.add(helper);
        }
        work.run();
        for (FutureTask<Void> helper : helpers) {
            try {
                helper.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                // verification reports a bad record as a verdict; anything thrown is a bug, as it was inline
                throw new IllegalStateException("verifying a batch of " + batch.size() + " records failed",
                    e.getCause());
            }
        }
    }

    /** Verdicts known now (tests). */
    int verdictsKnown() {
        synchronized (verdicts) {
            return verdicts.size();
        }
    }

    private Verification cachedVerdict(ConsumerRecord<byte[], byte[]> r) {
        Header sig = r.headers().lastHeader(RecordSignature.H_SIG);
        byte[] signature = sig == null ? null : sig.value();
        Place place = new Place(r.topic(), r.partition(), r.offset());
        synchronized (verdicts) {
            Cached c = verdicts.get(place);
            if (c != null && Arrays.equals(c.signature(), signature)) return c.verdict();
        }
        Verification v = verifier.verify(r);
        synchronized (verdicts) {
            verdicts.put(place, new Cached(signature, v));
        }
        return v;
    }

    private Refusal count(String records, Refusal refusal) {
        if (rejected != null) rejected.labelValues(records, refusal.reason().label()).inc();
        return refusal;
    }
}
