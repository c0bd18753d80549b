package io.rtbackup.worker.config;

import java.time.Duration;

/**
 * Retries of failed commands, exponential backoff: {@code initialBackoff * multiplier^(n-1)}, capped.
 * A FAILED command is retried for as long as it fails (the breaker stops the spam); a PARTIAL one goes to the DLQ
 * after {@code maxAttempts}.
 */
public record RetrySettings(int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
    public static RetrySettings defaults() {
        return new RetrySettings(5, Duration.ofMillis(200), 2.0, Duration.ofSeconds(30));
    }

    public RetrySettings {
        if (maxAttempts < 1) throw new IllegalArgumentException("max attempts must be >= 1");
        if (initialBackoff.toMillis() < 1) throw new IllegalArgumentException("initial backoff must be >= 1 ms");
        if (multiplier < 1.0) throw new IllegalArgumentException("multiplier must be >= 1");
        if (maxBackoff.compareTo(initialBackoff) < 0) throw new IllegalArgumentException("max backoff must be >= initial backoff");
    }
}
