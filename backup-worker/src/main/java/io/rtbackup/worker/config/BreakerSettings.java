package io.rtbackup.worker.config;

import java.time.Duration;

/**
 * The per-destination circuit breaker (count-based window over command results).
 *
 * @param failureRateThreshold percentage of failed commands in the window that opens the breaker
 * @param slidingWindow        number of recent commands considered
 * @param minimumCalls         commands needed before the rate is evaluated
 * @param openWait             how long the breaker stays open (consumer paused) before a probe
 * @param halfOpenCalls        probe commands allowed while half-open
 */
public record BreakerSettings(float failureRateThreshold, int slidingWindow, int minimumCalls, Duration openWait,
                              int halfOpenCalls) {
    public static BreakerSettings defaults() {
        return new BreakerSettings(50f, 10, 3, Duration.ofSeconds(10), 1);
    }

    public BreakerSettings {
        if (!(failureRateThreshold > 0 && failureRateThreshold <= 100)) throw new IllegalArgumentException("failure rate threshold must be in (0, 100]");
        if (slidingWindow < 1) throw new IllegalArgumentException("sliding window must be >= 1");
        if (minimumCalls < 1) throw new IllegalArgumentException("minimum calls must be >= 1");
        if (openWait.toMillis() < 1) throw new IllegalArgumentException("open wait must be >= 1 ms");
        if (halfOpenCalls < 1) throw new IllegalArgumentException("half-open calls must be >= 1");
    }
}
