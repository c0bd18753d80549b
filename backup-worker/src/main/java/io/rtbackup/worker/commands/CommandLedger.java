package io.rtbackup.worker.commands;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.StuckPath;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.resilience.DestinationGuard;
import io.rtbackup.worker.resilience.HostQuarantine;
import io.rtbackup.worker.transport.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands of one destination that are out (waiting for a result) or waiting for a retry, and what the end of
 * each attempt means for its batch ({@link Verdict}):
 * <ul>
 *   <li>OK: synced. Batches backing off because the destination was down may go out at once.</li>
 *   <li>PARTIAL, by the end the agent says failed ({@code SyncResult.failureSide}): the destination's (it could
 *       not store a file: permissions, quota, a full disk, a read-only subtree; or a message the agent could not
 *       place) is a failure of the destination like a FAILED one, never done; the source's (paths the host could not
 *       read, listed in {@code stuckPaths}) is {@link Verdict.Stuck}: everything else arrived. An agent that does not
 *       say (before SyncResult v4): retried with backoff, given up to the DLQ once the retry policy's attempts are
 *       used.</li>
 *   <li>REJECTED by the agent: given up at once (retrying cannot help).</li>
 *   <li>FAILED, no result within the timeout (full syncs get a longer one), or not delivered to Kafka: never given up,
 *       as the batch's events would be lost; retried until it succeeds.</li>
 * </ul>
 * Each failure counts against whoever it belongs to ({@link FailureOwner}). The destination's (a FAILED result
 * with a destination exit code) goes to the {@link DestinationGuard}'s breaker and the batch backs off on its own
 * retry policy, then every max backoff (the breaker, not the retry count, limits how hard a dead destination is
 * tried). The host's (no result in time, a host-side FAILED) quarantines the host ({@link HostQuarantine}): its slot
 * is released, the breaker is not told, and its batches wait for the host's backoff, one command of the host at a
 * time. A host never holds more than {@link DestinationGuard#perHostSlots()} of the destination's slots: a host
 * that stops answering holds at most that many until their results time out. Batches beyond that wait here
 * ("parked") until the host's turn. While the breaker is half-open, the probe is a batch of a host that is not
 * quarantined. A result for a command that is not out (late after a timeout, or a duplicate) means nothing, and so
 * does one that names another host than its command's (only the command's own host can answer it; the result
 * listener has checked that the host named signed it).
 *
 * <p>Lifecycle of a batch: {@link #first} (or, for a parked batch or a retry, {@link #takeDueRetry}) gives the next
 * attempt, {@link #sent} records the command, one of {@link #onResult}, {@link #onSendFailed}, {@link #expire} ends
 * it. A batch is the ledger's until a {@link Verdict.Synced} or {@link Verdict.GiveUp}.
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

    /** What a waiting batch waits for. */
    private enum Cause {
        /** The destination to answer again: brought forward when it does. */
        DESTINATION,
        /** Its host to answer again (quarantine): brought forward when it does. */
        HOST,
        /** Its own backoff after a source-side partial. */
        PARTIAL,
        /** A free slot among its host's share (a new batch): due at once, goes when the host may send. */
        HOST_SHARE
    }

    private record Wait(Batch batch, int attempt, long dueNs, Cause cause, long seq) {
        String host() {
            return batch.key().host();
        }
    }

    private final String destination;
    private final DestinationGuard guard;
    private final HostQuarantine quarantine;
    private final long resultTimeoutNs;
    private final long fullSyncResultTimeoutNs;
    private final LongSupplier nanos;
    private final Map<String, Out> out = new HashMap<>();
    private final Map<String, Integer> outPerHost = new HashMap<>();
    private final TreeSet<Wait> waits = new TreeSet<>(Comparator.comparingLong(Wait::dueNs).thenComparingLong(Wait::seq));
    private final Map<Long, Backoff> backoffs = new HashMap<>();
    private long waitSeq;

    public CommandLedger(String destination, DestinationGuard guard, HostQuarantine quarantine, Duration resultTimeout,
                         Duration fullSyncResultTimeout, LongSupplier nanoClock) {
        this.destination = destination;
        this.guard = guard;
        this.quarantine = quarantine;
        this.resultTimeoutNs = resultTimeout.toNanos();
        this.fullSyncResultTimeoutNs = fullSyncResultTimeout.toNanos();
        this.nanos = nanoClock;
    }

    /**
     * A new batch, already admitted by the guard: its first attempt, or empty when its host is quarantined or
     * holds its share of the slots. The batch is then parked here (the guard's permit is given back) and goes out
     * through {@link #takeDueRetry} when its host may send again.
     */
    public Optional<Next> first(Batch batch) {
        backoffs.put(batch.id(), new Backoff(guard.newRetryContext()));
        String host = batch.key().host();
        if (hostMaySend(host, nanos.getAsLong())) return Optional.of(new Next(batch, 1));
        guard.neutral();
        log.debug("destination {}: {} waits for its host {} ({})", destination, batch, host,
            quarantine.isQuarantined(host) ? "quarantined" : "holds its share of the slots");
        waits.add(new Wait(batch, 1, nanos.getAsLong(), Cause.HOST_SHARE, waitSeq++));
        return Optional.empty();
    }

    /**
     * The earliest waiting batch that is due, whose host may send and that the guard admits. While the breaker is
     * half-open, the earliest one of a host that is not quarantined is due at once: it is the probe the breaker
     * asks for, rather than waiting for its own (maybe long) backoff. A batch of a quarantined host (which may be
     * down, and would only make the probe time out) is the probe only when no other host's batch waits, so a
     * destination serving that host alone still gets probed.
     */
    public Optional<Next> takeDueRetry() {
        if (waits.isEmpty()) return Optional.empty();
        long now = nanos.getAsLong();
        boolean probing = guard.breakerState() == CircuitBreaker.State.HALF_OPEN;
        Wait pick = null;
        Wait quarantinedProbe = null;
        for (Wait w : waits) {
            boolean live = !quarantine.isQuarantined(w.host());
            if (!probing && w.dueNs() > now) break;
            if (!hostMaySend(w.host(), now)) continue;
            if (!probing || live) {
                pick = w;
                break;
            }
            if (quarantinedProbe == null && w.dueNs() <= now) quarantinedProbe = w;
        }
        if (pick == null && !hasLiveHostWait()) pick = quarantinedProbe;
        if (pick == null || !guard.tryAdmit()) return Optional.empty();
        waits.remove(pick);
        return Optional.of(new Next(pick.batch(), pick.attempt()));
    }

    /** The command of {@code next} was handed to the producer; its result is due within the result timeout. */
    public Attempt sent(Next next, SyncCommand command) {
        long now = nanos.getAsLong();
        Attempt a = new Attempt(command.getCommandId(), next.batch(), next.attempt(), command, now);
        long timeout = next.batch().fullSync() ? fullSyncResultTimeoutNs : resultTimeoutNs;
        out.put(a.commandId(), new Out(a, now + timeout));
        outPerHost.merge(next.batch().key().host(), 1, Integer::sum);
        return a;
    }

    /** What a result means; empty when its command is not out. */
    public Optional<Verdict> onResult(SyncResult r) {
        Out mine = out.get(r.getCommandId());
        if (mine != null && !mine.attempt().batch().key().host().equals(r.getHostId())) {
            // A result naming another host than the command's (its signer, when signed, is that other host): it
            // answers nothing. The command stays out; its own host's result or the timeout ends it.
            log.warn("destination {}: result for command {} names host '{}', but the command is for host '{}'; "
                + "ignored", destination, r.getCommandId(), r.getHostId(), mine.attempt().batch().key().host());
            return Optional.empty();
        }
        Out o = takeOut(r.getCommandId());
        if (o == null) {
            log.debug("destination {}: result for command {} that is not in flight (late after a timeout, or a "
                + "duplicate); ignored", destination, r.getCommandId());
            return Optional.empty();
        }
        Attempt a = o.attempt();
        Backoff b = backoffs.get(a.batch().id());
        String reason = r.getError() != null ? r.getError() : "rsync exit code " + r.getExitCode();
        String host = a.batch().key().host();
        if (r.getOutcome() == SyncOutcome.FAILED && FailureOwner.of(r) == FailureOwner.HOST) {
            guard.neutral();
            return Optional.of(hostFailed(a, "failed", "failed on host " + host + " (" + reason + ")"));
        }
        // Any other answer shows the host working.
        if (quarantine.answered(host)) retryNowWhatWaitsForTheHost(host);
        switch (r.getOutcome()) {
            case OK -> {
                guard.succeeded(r.getDurationMs());
                b.retry.onComplete();
                backoffs.remove(a.batch().id());
                retryNowWhatWaitsForTheDestination();
                return Optional.of(new Verdict.Synced(a, r));
            }
            case PARTIAL -> {
                Optional<Map<PathKey, String>> stuck = stuckPaths(r);
                if (r.getFailureSide() == FailureSide.DESTINATION) {
                    guard.destinationFailed(r.getDurationMs(), reason);
                    return Optional.of(failed(a, "failed", "partial, failed on the destination (" + reason + ")"));
                }
                if (r.getFailureSide() == FailureSide.NONE || stuck.isPresent()) {
                    guard.succeeded(r.getDurationMs());
                    b.retry.onComplete();
                    backoffs.remove(a.batch().id());
                    retryNowWhatWaitsForTheDestination();
                    if (stuck.isEmpty()) return Optional.of(new Verdict.Synced(a, r));
                    return Optional.of(new Verdict.Stuck(a, r, stuck.get()));
                }
                // An agent before v4: the destination worked as far as it can tell; the source side did not.
                guard.succeeded(r.getDurationMs());
                long delay = b.retry.onError(new IllegalStateException(reason));
                if (delay < 0) {
                    return Optional.of(giveUp(a, "partial", DeadLetter.KIND_PARTIAL_COMMAND,
                        "still partial after " + a.number() + " attempt(s): " + reason, r));
                }
                return Optional.of(retryLater(a, "partial", delay, "partial (" + reason + ")", Cause.PARTIAL));
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

    /**
     * The stuck paths of a source-side PARTIAL, or empty when the result has none or one that is not a usable
     * root-relative path (the result is then read like one of an agent that does not classify).
     */
    private static Optional<Map<PathKey, String>> stuckPaths(SyncResult r) {
        if (r.getFailureSide() != FailureSide.SOURCE || r.getStuckPaths() == null || r.getStuckPaths().isEmpty()) {
            return Optional.empty();
        }
        Map<PathKey, String> out = new LinkedHashMap<>();
        for (StuckPath p : r.getStuckPaths()) {
            byte[] path = new byte[p.getPath().remaining()];
            p.getPath().duplicate().get(path);
            if (path.length == 0 || PathKey.problem(path) != null) return Optional.empty();
            out.merge(PathKey.of(path), p.getReason(), (x, y) -> x + "; " + y);
        }
        return Optional.of(out);
    }

    /** The producer could not deliver the command ({@code why}, for messages); empty when it is not out. */
    public Optional<Verdict> onSendFailed(String commandId, String why) {
        Out o = takeOut(commandId);
        if (o == null) return Optional.empty();
        guard.neutral();
        return Optional.of(failed(o.attempt(), "send_failed", why));
    }

    /**
     * Ends every attempt whose result is overdue: the host is down, stopped or cut off (or the result was lost).
     * That is the host's failure, never the destination's: a destination that fails still lets agents answer.
     */
    public List<Verdict> expire() {
        if (out.isEmpty()) return List.of();
        long now = nanos.getAsLong();
        List<Out> expired = new ArrayList<>();
        for (Out o : out.values()) if (o.deadlineNs() <= now) expired.add(o);
        List<Verdict> verdicts = new ArrayList<>();
        for (Out o : expired) {
            takeOut(o.attempt().commandId());
            long waitedMs = (now - o.attempt().issuedNs()) / 1_000_000;
            guard.neutral();
            verdicts.add(hostFailed(o.attempt(), "timeout", "no result within " + waitedMs
                + " ms (host " + o.attempt().batch().key().host() + " down or cut off, or the result was lost)"));
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

    /**
     * When the earliest waiting batch may go, on the injected clock; {@code Long.MAX_VALUE} when none waits or every
     * waiting one waits for a command of its host to end (a result, which wakes the pipeline anyway).
     */
    public long nextRetryDueNs() {
        long earliest = Long.MAX_VALUE;
        for (Wait w : waits) {
            if (w.dueNs() >= earliest) break;
            String host = w.host();
            int hostOut = outPerHost.getOrDefault(host, 0);
            if (quarantine.isQuarantined(host)) {
                if (hostOut == 0) earliest = Math.min(earliest, Math.max(w.dueNs(), quarantine.releaseAtNs(host)));
            } else if (hostOut < guard.perHostSlots()) {
                earliest = w.dueNs();
            }
        }
        return earliest;
    }

    private boolean hasLiveHostWait() {
        for (Wait w : waits) if (!quarantine.isQuarantined(w.host())) return true;
        return false;
    }

    /** The hosts quarantined now, for the status and the metrics. */
    public List<HostQuarantine.Quarantined> quarantinedHosts() {
        return quarantine.snapshot();
    }

    /**
     * A host not quarantined may have up to its share of the slots out; a quarantined one a single command, once its
     * backoff is over.
     */
    private boolean hostMaySend(String host, long now) {
        int hostOut = outPerHost.getOrDefault(host, 0);
        if (quarantine.isQuarantined(host)) return hostOut == 0 && quarantine.releaseAtNs(host) <= now;
        return hostOut < guard.perHostSlots();
    }

    private Out takeOut(String commandId) {
        Out o = out.remove(commandId);
        if (o != null) outPerHost.computeIfPresent(o.attempt().batch().key().host(), (h, n) -> n == 1 ? null : n - 1);
        return o;
    }

    /** A failure of the batch's host: the host backs off, the batch waits for it (never given up). */
    private Verdict hostFailed(Attempt a, String outcome, String why) {
        long delay = quarantine.failed(a.batch().key().host(), a.issuedNs(), why);
        return retryLater(a, outcome, delay, why, Cause.HOST);
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
        return retryLater(a, outcome, delay, why, Cause.DESTINATION);
    }

    private Verdict retryLater(Attempt a, String outcome, long delayMs, String why, Cause cause) {
        log.info("destination {}: command {} ({}, attempt {}) {}; retrying in {} ms", destination, a.commandId(),
            a.batch(), a.number(), why, delayMs);
        waits.add(new Wait(a.batch(), a.number() + 1, nanos.getAsLong() + delayMs * 1_000_000L, cause, waitSeq++));
        return new Verdict.RetryLater(a, outcome, why, delayMs);
    }

    private Verdict giveUp(Attempt a, String outcome, String kind, String reason, SyncResult r) {
        backoffs.remove(a.batch().id());
        return new Verdict.GiveUp(a, outcome, kind, reason, r);
    }

    /**
     * The destination answered: batches backing off because it was down go out now instead of after their
     * (exponential, up to retry.max-backoff-ms) wait; a returning destination then catches up at once. Their
     * backoff starts over too: the failures it counted were the outage's, so a failure after the destination
     * answered again (a daemon still starting, a flapping link) is retried after the initial backoff, not after
     * the maximum one (30 s by default) the outage had reached while the breaker, closed again, no longer probes.
     */
    private void retryNowWhatWaitsForTheDestination() {
        for (Wait w : bringForward(w -> w.cause() == Cause.DESTINATION)) {
            backoffs.put(w.batch().id(), new Backoff(guard.newRetryContext()));
        }
    }

    /** The host answered again: its batches that waited for it go out now. */
    private void retryNowWhatWaitsForTheHost(String host) {
        bringForward(w -> w.cause() == Cause.HOST && w.host().equals(host));
    }

    /** Makes the waiting batches {@code which} selects due now; returns all of them (also those due already). */
    private List<Wait> bringForward(Predicate<Wait> which) {
        if (waits.isEmpty()) return List.of();
        long now = nanos.getAsLong();
        List<Wait> selected = new ArrayList<>();
        List<Wait> moved = new ArrayList<>();
        for (var it = waits.iterator(); it.hasNext(); ) {
            Wait w = it.next();
            if (!which.test(w)) continue;
            selected.add(w);
            if (w.dueNs() > now) {
                it.remove();
                moved.add(w);
            }
        }
        for (Wait w : moved) waits.add(new Wait(w.batch(), w.attempt(), now, w.cause(), w.seq()));
        return selected;
    }
}
