package io.rtbackup.worker.config;

import java.time.Duration;

/**
 * The per-destination circuit breaker (count-based window over command results). How long it stays open backs
 * off: {@code openWait} after it opens, twice as long each time a probe fails and it opens again, never more than
 * {@code maxOpenWait}; a successful probe closes it and the next opening starts at {@code openWait} again. A
 * destination that comes back is thus tried again soon after, while a dead one gets one probe command every
 * {@code maxOpenWait}.
 *
 * @param failureRateThreshold percentage of failed commands in the window that opens the breaker
 * @param slidingWindow        number of recent commands considered
 * @param minimumCalls         commands needed before the rate is evaluated
 * @param openWait             how long the breaker stays open (nothing but probes go out; the consumer reads on) before its first probe
 * @param maxOpenWait          the longest it stays open, however many probes failed
 * @param halfOpenCalls        probe commands allowed while half-open
 */
public record BreakerSettings(float failureRateThreshold, int slidingWindow, int minimumCalls, Duration openWait,
                              Duration maxOpenWait, int halfOpenCalls) {
    /** The open wait's growth per failed probe. */
    public static final double OPEN_WAIT_MULTIPLIER = 2.0;
    /**
     * Default {@link #maxOpenWait()}, or {@link #openWait()} when that is longer. One second, as lsyncd's retry of a
     * failed rsync: a destination that comes back waits for its next probe half a second on average (it was 4 s,
     * 2 s on average, and lost the fan-out comparison on that alone). A probe to a dead destination costs one
     * command and an rsync that fails to connect.
     */
    public static final Duration DEFAULT_MAX_OPEN_WAIT = Duration.ofSeconds(1);

    public static BreakerSettings defaults() {
        return new BreakerSettings(50f, 10, 3, Duration.ofMillis(500), 1);
    }

    public BreakerSettings {
        if (!(failureRateThreshold > 0 && failureRateThreshold <= 100)) throw new IllegalArgumentException("failure rate threshold must be in (0, 100]");
        if (slidingWindow < 1) throw new IllegalArgumentException("sliding window must be >= 1");
        if (minimumCalls < 1) throw new IllegalArgumentException("minimum calls must be >= 1");
        if (openWait.toMillis() < 1) throw new IllegalArgumentException("open wait must be >= 1 ms");
        if (maxOpenWait.compareTo(openWait) < 0) throw new IllegalArgumentException("max open wait must be >= open wait");
        if (halfOpenCalls < 1) throw new IllegalArgumentException("half-open calls must be >= 1");
    }

    /** Settings whose open wait backs off up to the default maximum (or stays at {@code openWait} when longer). */
    public BreakerSettings(float failureRateThreshold, int slidingWindow, int minimumCalls, Duration openWait,
                           int halfOpenCalls) {
        this(failureRateThreshold, slidingWindow, minimumCalls, openWait, defaultMaxOpenWait(openWait), halfOpenCalls);
    }

    /** The maximum open wait when none is configured: the default, or {@code openWait} when that is longer. */
    public static Duration defaultMaxOpenWait(Duration openWait) {
        return openWait.compareTo(DEFAULT_MAX_OPEN_WAIT) > 0 ? openWait : DEFAULT_MAX_OPEN_WAIT;
    }

    /** How long the breaker stays open after its {@code opening}-th opening in a row (1 = the first). */
    public Duration openWait(int opening) {
        double ms = openWait.toMillis() * Math.pow(OPEN_WAIT_MULTIPLIER, Math.max(0, opening - 1));
        return ms >= maxOpenWait.toMillis() ? maxOpenWait : Duration.ofMillis((long) ms);
    }
}
