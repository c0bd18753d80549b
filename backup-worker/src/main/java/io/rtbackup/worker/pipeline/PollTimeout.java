package io.rtbackup.worker.pipeline;

/**
 * How long a destination pipeline's poll may block: the loop does its timed work (issuing ready paths, retries,
 * results that came in) only between polls, so the poll must end when the next of those is due.
 */
final class PollTimeout {
    static final long IDLE_POLL_MS = 20;
    /**
     * The longest poll while a command's result is awaited. A result is read by the worker's result listener on its
     * own thread and waits in the pipeline's inbox ({@link DestinationPipeline#deliver}) until the poll returns,
     * which only arriving events cut short: at 100 changes/s a result waited 6-7 ms there on average (p90 12 ms), once per command
     * cycle, and up to {@link #IDLE_POLL_MS} at lower rates (issue 18). No {@code consumer.wakeup()} instead: one that
     * lands in a rebalance callback or a commit would fail them. Costs an empty round every 5 ms while a command
     * is out.
     */
    static final long AWAITING_RESULT_POLL_MS = 5;

    private PollTimeout() {
    }

    /**
     * How long the next poll may wait: until the coalescer may issue something ({@code issueDue}), a retry or
     * stuck path is due ({@code retryDue}; both {@code Long.MAX_VALUE} for never), at most {@link #IDLE_POLL_MS},
     * at most {@link #AWAITING_RESULT_POLL_MS} while a result is awaited, and not at all with a signal waiting.
     */
    static long millis(long now, long issueDue, long retryDue, boolean awaitingResult, boolean signalWaiting) {
        if (signalWaiting) return 0;
        long t = awaitingResult ? AWAITING_RESULT_POLL_MS : IDLE_POLL_MS;
        if (issueDue != Long.MAX_VALUE) t = Math.min(t, ceilMs(issueDue - now));
        if (retryDue != Long.MAX_VALUE) t = Math.min(t, ceilMs(retryDue - now));
        return Math.max(0, t);
    }

    private static long ceilMs(long ns) {
        if (ns <= 0) return 0;
        return (ns + 999_999) / 1_000_000;
    }
}
