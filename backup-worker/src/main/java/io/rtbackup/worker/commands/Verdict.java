package io.rtbackup.worker.commands;

import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.coalesce.PathKey;
import java.util.Map;

/**
 * What the end of an attempt (a result, a failed send, a timeout) means for its batch. Every verdict has already
 * been applied to the breaker and the batch's retries by the {@link CommandLedger}; the caller does the rest.
 */
public sealed interface Verdict {
    Attempt attempt();

    /**
     * The {@code outcome} label of the command-results metric: ok, stuck (done but for unreadable source paths),
     * partial (of an agent that does not say which end failed), failed (also a partial run the destination
     * failed), rejected, timeout, send_failed.
     */
    String outcome();

    /** The batch is replicated: its events are durable on the destination. */
    record Synced(Attempt attempt, SyncResult result) implements Verdict {
        @Override
        public String outcome() {
            return "ok";
        }
    }

    /**
     * The batch is replicated except {@code paths} (root-relative, with the agent's reason for each), which its
     * host could not read: they were left out, their replica copies kept. They become stuck paths; the rest of the
     * batch is done.
     */
    record Stuck(Attempt attempt, SyncResult result, Map<PathKey, String> paths) implements Verdict {
        public Stuck {
            paths = Map.copyOf(paths);
        }

        @Override
        public String outcome() {
            return "stuck";
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
