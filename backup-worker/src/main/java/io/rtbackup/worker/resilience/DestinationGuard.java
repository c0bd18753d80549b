package io.rtbackup.worker.resilience;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.rtbackup.worker.config.BreakerSettings;
import io.rtbackup.worker.config.RetrySettings;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The resilience4j parts of one destination. Commands are asynchronous (a result arrives on a topic much later),
 * so the parts are driven by hand: {@link #tryAdmit()} before a command goes out, one of the outcome methods when
 * its result (or timeout) arrives, and retry delays from a {@link Retry.AsyncContext} per batch. Only what the
 * destination does reaches the breaker; failures of a source host are not its business (see {@link HostQuarantine}).
 *
 * <p>The breaker's open wait backs off ({@link BreakerSettings#openWait(int)}): short after a first opening, so a
 * destination that was down briefly is probed again within a second, doubling with each failed probe up to the
 * maximum, so a dead destination gets one probe command per maximum wait; closing starts over.
 */
public final class DestinationGuard {
    private final Bulkhead bulkhead;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final long maxBackoffMs;
    private final int maxConcurrent;
    private final int perHostSlots;
    private final BreakerSettings breakerSettings;
    private final LongSupplier clock;
    private volatile long openedAtNs;
    /** Openings since the breaker was last closed (1 while open for the first time). */
    private volatile int openings;
    private volatile long openWaitNs;

    /** A guard whose per-host share is half the slots (rounded up), as {@code maxPerHost} unbounded. */
    public DestinationGuard(String destination, int maxConcurrent, RetrySettings retrySettings,
                            BreakerSettings breakerSettings, LongSupplier nanoClock) {
        this(destination, maxConcurrent, Integer.MAX_VALUE, retrySettings, breakerSettings, nanoClock);
    }

    /**
     * @param maxConcurrent commands in flight to the destination at once ({@code bulkhead.max-concurrent})
     * @param maxPerHost    of which one source host may hold at most this many, and never more than half
     *                      ({@code bulkhead.max-per-host}, see {@link #perHostSlots()})
     */
    public DestinationGuard(String destination, int maxConcurrent, int maxPerHost, RetrySettings retrySettings,
                            BreakerSettings breakerSettings, LongSupplier nanoClock) {
        this.bulkhead = Bulkhead.of("rtb-dest-" + destination, BulkheadConfig.custom()
            .maxConcurrentCalls(maxConcurrent)
            .maxWaitDuration(Duration.ZERO)
            .build());
        this.breaker = CircuitBreaker.of("rtb-dest-" + destination, CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(breakerSettings.slidingWindow())
            .minimumNumberOfCalls(breakerSettings.minimumCalls())
            .failureRateThreshold(breakerSettings.failureRateThreshold())
            // the same schedule as tick(): resilience4j moves to half-open itself when asked for a permission
            // after the wait (it counts the openings in a row as we do)
            .waitIntervalFunctionInOpenState(opening -> breakerSettings.openWait(opening).toMillis())
            .permittedNumberOfCallsInHalfOpenState(breakerSettings.halfOpenCalls())
            .recordExceptions(DestinationFailure.class)
            .build());
        this.retry = Retry.of("rtb-dest-" + destination, RetryConfig.custom()
            .maxAttempts(retrySettings.maxAttempts())
            .intervalFunction(IntervalFunction.ofExponentialBackoff(retrySettings.initialBackoff(),
                retrySettings.multiplier(), retrySettings.maxBackoff()))
            .retryExceptions(Exception.class)
            .build());
        this.maxBackoffMs = retrySettings.maxBackoff().toMillis();
        this.maxConcurrent = maxConcurrent;
        this.perHostSlots = Math.max(1, Math.min(maxPerHost, (maxConcurrent + 1) / 2));
        this.breakerSettings = breakerSettings;
        this.openWaitNs = breakerSettings.openWait().toNanos();
        this.clock = nanoClock;
        breaker.getEventPublisher().onStateTransition(e -> {
            CircuitBreaker.State to = e.getStateTransition().getToState();
            if (to == CircuitBreaker.State.OPEN) {
                openings++;
                openWaitNs = this.breakerSettings.openWait(openings).toNanos();
                openedAtNs = clock.getAsLong();
            } else if (to == CircuitBreaker.State.CLOSED) {
                openings = 0;
            }
        });
    }

    /**
     * Moves an open breaker to half-open once its wait is over. Called from the pipeline loop: while open, the
     * consumer is paused and possibly no command asks for permission, so nothing else would (resilience4j's own
     * automatic transition would need a scheduler thread per JVM that is not a daemon).
     */
    public void tick() {
        if (breaker.getState() == CircuitBreaker.State.OPEN && clock.getAsLong() - openedAtNs >= openWaitNs) {
            breaker.transitionToHalfOpenState();
        }
    }

    /** A bulkhead slot and breaker permission for one command, both or neither. */
    public boolean tryAdmit() {
        if (!bulkhead.tryAcquirePermission()) return false;
        if (!breaker.tryAcquirePermission()) {
            bulkhead.releasePermission();
            return false;
        }
        return true;
    }

    /** The command reached the destination and the destination did its part (OK, PARTIAL). */
    public void succeeded(long durationMs) {
        bulkhead.onComplete();
        breaker.onSuccess(durationMs, TimeUnit.MILLISECONDS);
    }

    /** The destination failed (a FAILED result that is the destination's). Counts towards opening the breaker. */
    public void destinationFailed(long durationMs, String reason) {
        bulkhead.onComplete();
        breaker.onError(durationMs, TimeUnit.MILLISECONDS, new DestinationFailure(reason));
    }

    /**
     * The command said nothing about the destination (rejected by the agent, not delivered to Kafka, failed on the
     * source host, no result in time), or was admitted and not sent: frees its slot and permission.
     */
    public void neutral() {
        bulkhead.onComplete();
        breaker.releasePermission();
    }

    public Retry.AsyncContext<Void> newRetryContext() {
        return retry.asyncContext();
    }

    public long maxBackoffMs() {
        return maxBackoffMs;
    }

    /**
     * How many of the slots one source host may hold at once: {@code maxPerHost}, and at most half (rounded up), so a
     * host that stops answering leaves most of the slots to the others until its commands time out.
     */
    public int perHostSlots() {
        return perHostSlots;
    }

    /** How long the breaker stays open this time (or would on its next opening, when not open). */
    public Duration openWait() {
        return Duration.ofNanos(openWaitNs);
    }

    public CircuitBreaker.State breakerState() {
        return breaker.getState();
    }

    /** The bulkhead's size: commands in flight to the destination at once. */
    public int slots() {
        return maxConcurrent;
    }

    public int availableSlots() {
        return bulkhead.getMetrics().getAvailableConcurrentCalls();
    }

    /** The failure recorded by the breaker and the retry when a destination does not do its part. */
    public static final class DestinationFailure extends RuntimeException {
        public DestinationFailure(String reason) {
            super(reason, null, false, false);
        }
    }
}
