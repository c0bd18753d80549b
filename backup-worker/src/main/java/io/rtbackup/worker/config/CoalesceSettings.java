package io.rtbackup.worker.config;

import java.time.Duration;

/**
 * How a destination's coalescer batches paths.
 *
 * @param debounce        a pending path goes out once it has been quiet this long
 * @param maxDelay        ... or once it has waited this long under constant writes
 * @param batchMaxPaths   most paths in one command; a (host, root) with this many ready paths flushes at once
 * @param maxPendingPaths above this many pending paths the destination's consumer pauses (memory bound)
 * @param catchUpLag      while the consumer is more than this many events behind the log end, paths are held (not
 *                        issued, at most {@code maxDelay} at a time) so a backlog coalesces into one rsync entry
 *                        per path instead of one per poll; 0 = whenever behind
 * @param maxInFlightPerRoot commands of one (host, root) in flight at once; while that many run, new paths wait
 *                        and go out together when one finishes. Every command costs an rsync start and a daemon
 *                        connection, so a steady stream batched behind a running command replicates sooner than one
 *                        command per path queued at the agent (which runs only a few rsyncs per destination).
 */
public record CoalesceSettings(Duration debounce, Duration maxDelay, int batchMaxPaths, int maxPendingPaths,
                               long catchUpLag, int maxInFlightPerRoot) {
    /**
     * One, as lsyncd's maxProcesses: on a small source host, parallel rsyncs of one root compete for the same
     * CPU and disk, and each got slower than the batching they replace (bench fan-out: healthy p50 ~900 ms with 2,
     * ~240 ms with 1). Raise it when one root often carries big transfers that small changes should not wait for.
     */
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_ROOT = 1;

    public static CoalesceSettings defaults() {
        return new CoalesceSettings(Duration.ofMillis(100), Duration.ofSeconds(1), 1000, 100_000, 0,
            DEFAULT_MAX_IN_FLIGHT_PER_ROOT);
    }

    public CoalesceSettings(Duration debounce, Duration maxDelay, int batchMaxPaths, int maxPendingPaths,
                            long catchUpLag) {
        this(debounce, maxDelay, batchMaxPaths, maxPendingPaths, catchUpLag, DEFAULT_MAX_IN_FLIGHT_PER_ROOT);
    }

    public CoalesceSettings {
        if (debounce.isNegative()) throw new IllegalArgumentException("debounce must not be negative");
        if (maxDelay.compareTo(debounce) < 0) throw new IllegalArgumentException("max delay must be >= debounce");
        if (batchMaxPaths < 1) throw new IllegalArgumentException("batch size cap must be >= 1");
        if (maxPendingPaths < batchMaxPaths) throw new IllegalArgumentException("max pending paths must be >= batch size cap");
        if (catchUpLag < 0) throw new IllegalArgumentException("catch-up lag must not be negative");
        if (maxInFlightPerRoot < 1) throw new IllegalArgumentException("max in flight per root must be >= 1");
    }
}
