package io.rtbackup.agent.reconcile;

import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.Optional;

/**
 * What one reconciliation of a replica tree did.
 *
 * @param runId       names the run (its result's command id is {@code reconcile:<runId>})
 * @param differences entries the whole-root rsync had to change: regular files transferred plus entries deleted.
 *                    Directory times and attribute-only fixes are not counted (see {@link Reconciler})
 * @param exitCode    rsync's exit code, -1 when it did not run or was killed
 * @param error       why it failed or was partial; empty when OK
 */
public record Reconciliation(String runId, String rootId, String destination, String remoteDir,
        SyncOutcome outcome, int exitCode, long differences, long bytesSent, Duration duration,
        Optional<String> error) {

    public boolean ok() {
        return outcome == SyncOutcome.OK;
    }

    /** One line for logs and {@code rtb reconcile}. */
    public String describe() {
        String what = switch (outcome) {
            case OK -> differences == 0 ? "in sync" : differences + " difference(s) found and repaired";
            case PARTIAL -> "partial, " + differences + " difference(s) repaired";
            case FAILED -> "failed";
            case REJECTED -> "refused";
        };
        return "root " + rootId + " -> " + destination + ":" + remoteDir + ": " + what + " (" + duration.toMillis()
            + " ms, " + bytesSent + " bytes sent)" + error.map(e -> ": " + e).orElse("");
    }
}
