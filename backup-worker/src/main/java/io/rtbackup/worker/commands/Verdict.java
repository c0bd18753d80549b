package io.rtbackup.worker.commands;

import io.rtbackup.schema.SyncResult;

/**
 * What the end of an attempt (a result, a failed send, a timeout) means for its batch. Every verdict has already
 * been applied to the breaker and the batch's retries by the {@link CommandLedger}; the caller does the rest.
 */
public sealed interface Verdict {
    Attempt attempt();

    /** The {@code outcome} label of the command-results metric: ok, partial, failed, rejected, timeout, send_failed. */
    String outcome();

    /** The batch is replicated: its events are durable on the destination. */
    record Synced(Attempt attempt, SyncResult result) implements Verdict {
        @Override
        public String outcome() {
            return "ok";
        }
    }

    /** The batch stays in flight and goes out again after {@code delayMs} ({@code why}: what went wrong). */
    record RetryLater(Attempt attempt, String outcome, String why, long delayMs) implements Verdict {
    }

    /**
     * The batch is given up: it goes to the DLQ as {@code deadLetterKind} (a {@code DeadLetter.KIND_*_COMMAND}),
     * which makes its events done once stored.
     */
    record GiveUp(Attempt attempt, String outcome, String deadLetterKind, String reason, SyncResult result)
        implements Verdict {
    }
}
