package io.rtbackup.worker.config;

import java.time.Duration;

/**
 * Retries of failed commands, exponential backoff: {@code initialBackoff * multiplier^(n-1)}, capped.
 * A FAILED command, or a PARTIAL one the destination failed, is retried for as long as it fails (the breaker stops
 * the spam); a PARTIAL one of an agent that does not say which end failed goes to the DLQ after
 * {@code maxAttempts}. A stuck path (the source host cannot read it) is tried again every {@code stuckInterval}
 * for as long as it stays stuck.
 */
public record RetrySettings(int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff,
                            Duration stuckInterval) {
    /** The default pace of stuck-path retries. */
    public static final Duration STUCK_INTERVAL = Duration.ofSeconds(60);

    public static RetrySettings defaults() {
        return new RetrySettings(5, Duration.ofMillis(200), 2.0, Duration.ofSeconds(30));
    }

    /** With the default stuck-path pace. */
    public RetrySettings(int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
        this(maxAttempts, initialBackoff, multiplier, maxBackoff, STUCK_INTERVAL);
    }

    public RetrySettings {
        if (maxAttempts < 1) throw new IllegalArgumentException("max attempts must be >= 1");
        if (initialBackoff.toMillis() < 1) throw new IllegalArgumentException("initial backoff must be >= 1 ms");
        if (multiplier < 1.0) throw new IllegalArgumentException("multiplier must be >= 1");
        if (maxBackoff.compareTo(initialBackoff) < 0) throw new IllegalArgumentException("max backoff must be >= initial backoff");
        if (stuckInterval.toMillis() < 1) throw new IllegalArgumentException("stuck interval must be >= 1 ms");
    }
}
