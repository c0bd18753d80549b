package io.rtbackup.worker.commands;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.resilience.DestinationGuard;
import io.rtbackup.worker.transport.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands of one destination that are out (waiting for a result) or waiting for a retry, and what the end of
 * each attempt means for its batch ({@link Verdict}):
 * <ul>
 *   <li>OK: synced. Batches backing off because the destination was down may go out at once.</li>
 *   <li>PARTIAL (the destination worked, the source side did not): retried with backoff, given up to the DLQ once
 *       the retry policy's attempts are used.</li>
 *   <li>REJECTED by the agent: given up at once (retrying cannot help).</li>
 *   <li>FAILED, no result within the timeout (full syncs get a longer one), or not delivered to Kafka: never given up,
 *       as the batch's events would be lost; retried with backoff, then every max backoff until it succeeds (the
 *       breaker, not the retry count, limits how hard a dead destination is tried).</li>
 * </ul>
 * The {@link DestinationGuard} is told each outcome (breaker, bulkhead) and admits each retry. A result for a command
 * that is not out (late after a timeout, or a duplicate) means nothing.
 *
 * <p>Lifecycle of a batch: {@link #first} (or {@link #takeDueRetry}) gives the next attempt, {@link #sent} records
 * the command, one of {@link #onResult}, {@link #onSendFailed}, {@link #expire} ends it. A batch is the ledger's
 * until a {@link Verdict.Synced} or {@link Verdict.GiveUp}.
 *
 * <p>Single-threaded (the pipeline thread); time comes from the injected monotonic clock.
 */
public final class CommandLedger {
    private static final Logger log = LoggerFactory.getLogger(CommandLedger.class);

    /** An attempt of a batch that may be sent now: pass it to {@link #sent} with its command. */
    public record Next(Batch batch, int attempt) {
    }

    /** Backoff state shared by every attempt of one batch. */
    private static final class Backoff {
        final Retry.AsyncContext<Void> retry;
        boolean exhausted;

        Backoff(Retry.AsyncContext<Void> retry) {
            this.retry = retry;
        }
    }

    private record Out(Attempt attempt, long deadlineNs) {
    }

    /** @param destinationDown the wait is for the destination to answer again (not a source-side partial) */
    private record Wait(Batch batch, int attempt, long dueNs, boolean destinationDown) {
    }

    private final String destination;
    private final DestinationGuard guard;
    private final long resultTimeoutNs;
    private final long fullSyncResultTimeoutNs;
    private final LongSupplier nanos;
    private final Map<String, Out> out = new HashMap<>();
    private final PriorityQueue<Wait> waits = new PriorityQueue<>(Comparator.comparingLong(Wait::dueNs));
    private final Map<Long, Backoff> backoffs = new HashMap<>();

    public CommandLedger(String destination, DestinationGuard guard, Duration resultTimeout,
                         Duration fullSyncResultTimeout, LongSupplier nanoClock) {
        this.destination = destination;
        this.guard = guard;
        this.resultTimeoutNs = resultTimeout.toNanos();
        this.fullSyncResultTimeoutNs = fullSyncResultTimeout.toNanos();
        this.nanos = nanoClock;
    }

    /** A new batch, already admitted by the guard: its first attempt. */
    public Next first(Batch batch) {
        backoffs.put(batch.id(), new Backoff(guard.newRetryContext()));
        return new Next(batch, 1);
    }

    /**
     * The oldest waiting retry, if it is due and the guard admits it. While the breaker is half-open, the oldest one
     * is due at once: it is the probe the breaker asks for, rather than waiting for its own (maybe long) backoff.
     */
    public Optional<Next> takeDueRetry() {
        Wait w = waits.peek();
        if (w == null) return Optional.empty();
        boolean probing = guard.breakerState() == CircuitBreaker.State.HALF_OPEN;
        if (w.dueNs() > nanos.getAsLong() && !probing) return Optional.empty();
        if (!guard.tryAdmit()) return Optional.empty();
        waits.poll();
        return Optional.of(new Next(w.batch(), w.attempt()));
    }

    /** The command of {@code next} was handed to the producer; its result is due within the result timeout. */
    public Attempt sent(Next next, SyncCommand command) {
        long now = nanos.getAsLong();
        Attempt a = new Attempt(command.getCommandId(), next.batch(), next.attempt(), command, now);
        long timeout = next.batch().fullSync() ? fullSyncResultTimeoutNs : resultTimeoutNs;
        out.put(a.commandId(), new Out(a, now + timeout));
        return a;
    }

    /** What a result means; empty when its command is not out. */
    public Optional<Verdict> onResult(SyncResult r) {
        Out o = out.remove(r.getCommandId());
        if (o == null) {
            log.debug("destination {}: result for command {} that is not in flight (late after a timeout, or a "
                + "duplicate); ignored", destination, r.getCommandId());
            return Optional.empty();
        }
        Attempt a = o.attempt();
        Backoff b = backoffs.get(a.batch().id());
        String reason = r.getError() != null ? r.getError() : "rsync exit code " + r.getExitCode();
        switch (r.getOutcome()) {
            case OK -> {
                guard.succeeded(r.getDurationMs());
                b.retry.onComplete();
                backoffs.remove(a.batch().id());
                retryNowWhatWaitsForTheDestination();
                return Optional.of(new Verdict.Synced(a, r));
            }
            case PARTIAL -> {
                // The destination worked; something on the source side (an unreadable path) did not.
                guard.succeeded(r.getDurationMs());
                long delay = b.retry.onError(new IllegalStateException(reason));
                if (delay < 0) {
                    return Optional.of(giveUp(a, "partial", DeadLetter.KIND_PARTIAL_COMMAND,
                        "still partial after " + a.number() + " attempt(s): " + reason, r));
                }
                return Optional.of(retryLater(a, "partial", delay, "partial (" + reason + ")", false));
            }
            case REJECTED -> {
                guard.neutral();
                return Optional.of(giveUp(a, "rejected", DeadLetter.KIND_REJECTED_COMMAND,
                    "rejected by the agent on " + r.getHostId() + ": " + reason, r));
            }
            default -> {
                guard.destinationFailed(r.getDurationMs(), reason);
                return Optional.of(failed(a, "failed", "failed (" + reason + ")"));
            }
        }
    }

    /** The producer could not deliver the command ({@code why}, for messages); empty when it is not out. */
    public Optional<Verdict> onSendFailed(String commandId, String why) {
        Out o = out.remove(commandId);
        if (o == null) return Optional.empty();
        guard.neutral();
        return Optional.of(failed(o.attempt(), "send_failed", why));
    }

    /** Ends every attempt whose result is overdue (the agent is down, or the result was lost). */
    public List<Verdict> expire() {
        if (out.isEmpty()) return List.of();
        long now = nanos.getAsLong();
        List<Out> expired = new ArrayList<>();
        for (Out o : out.values()) if (o.deadlineNs() <= now) expired.add(o);
        List<Verdict> verdicts = new ArrayList<>();
        for (Out o : expired) {
            out.remove(o.attempt().commandId());
            long waitedMs = (now - o.attempt().issuedNs()) / 1_000_000;
            guard.destinationFailed(waitedMs, "no result");
            verdicts.add(failed(o.attempt(), "timeout", "no result within " + waitedMs
                + " ms (agent down or result lost)"));
        }
        return verdicts;
    }

    /** Commands out, waiting for a result. */
    public int inFlight() {
        return out.size();
    }

    /** Batches waiting for their next attempt. */
    public int waitingForRetry() {
        return waits.size();
    }

    /** Nothing out and nothing waiting for a retry. */
    public boolean isEmpty() {
        return out.isEmpty() && waits.isEmpty();
    }

    /** When the earliest retry is due, on the injected clock; {@code Long.MAX_VALUE} when none waits. */
    public long nextRetryDueNs() {
        Wait w = waits.peek();
        return w == null ? Long.MAX_VALUE : w.dueNs();
    }

    /** A failure that must not lose the batch: retried with backoff as long as it fails (the breaker limits it). */
    private Verdict failed(Attempt a, String outcome, String why) {
        Backoff b = backoffs.get(a.batch().id());
        boolean exhausted = b.exhausted;
        long delay = exhausted ? -1 : b.retry.onError(new DestinationGuard.DestinationFailure(why));
        if (delay < 0) {
            if (!exhausted) {
                log.warn("destination {}: {} {} still failing after {} attempts; retrying every {} ms until it succeeds",
                    destination, a.batch(), a.commandId(), a.number(), guard.maxBackoffMs());
            }
            b.exhausted = true;
            delay = guard.maxBackoffMs();
        }
        return retryLater(a, outcome, delay, why, true);
    }

    private Verdict retryLater(Attempt a, String outcome, long delayMs, String why, boolean destinationDown) {
        log.info("destination {}: command {} ({}, attempt {}) {}; retrying in {} ms", destination, a.commandId(),
            a.batch(), a.number(), why, delayMs);
        waits.add(new Wait(a.batch(), a.number() + 1, nanos.getAsLong() + delayMs * 1_000_000L, destinationDown));
        return new Verdict.RetryLater(a, outcome, why, delayMs);
    }

    private Verdict giveUp(Attempt a, String outcome, String kind, String reason, SyncResult r) {
        backoffs.remove(a.batch().id());
        return new Verdict.GiveUp(a, outcome, kind, reason, r);
    }

    /**
     * The destination answered: batches backing off because it was down go out now instead of after their
     * (exponential, up to retry.max-backoff-ms) wait; a returning destination then catches up at once.
     */
    private void retryNowWhatWaitsForTheDestination() {
        if (waits.isEmpty()) return;
        long now = nanos.getAsLong();
        List<Wait> waiting = new ArrayList<>(waits);
        waits.clear();
        for (Wait w : waiting) {
            waits.add(w.destinationDown() && w.dueNs() > now ? new Wait(w.batch(), w.attempt(), now, true) : w);
        }
    }
}
