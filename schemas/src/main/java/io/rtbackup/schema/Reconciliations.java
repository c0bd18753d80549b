package io.rtbackup.schema;

import java.util.Optional;

/**
 * How a periodic reconciliation (an agent's whole-root rsync of one root to one destination, run on its own
 * schedule, not on a worker's command) is reported on the results topic without a schema change: as a
 * {@link SyncResult} whose {@code commandId} starts with {@value #COMMAND_ID_PREFIX}, whose {@code replyTo} is
 * empty (so no worker takes it for an answer to one of its commands; workers also drop results for command ids
 * they did not issue) and whose {@code filesTransferred} is the number of differences the run found and repaired
 * (regular files transferred plus entries deleted). The agent writes it, the status reads it: this class is the
 * one place of that encoding.
 */
public final class Reconciliations {
    /** Prefix of the command id of a reconciliation's result. */
    public static final String COMMAND_ID_PREFIX = "reconcile:";

    static {
        // Building a SyncCommand or SyncResult resolves nested generated classes, which Avro must trust; a
        // process that builds one without ever creating an AvroCodec (rtb reconcile) would be refused.
        TrustedPackages.install();
    }

    private Reconciliations() {}

    /** The command id of a reconciliation named {@code runId} (a UUID). */
    public static String commandId(String runId) {
        return COMMAND_ID_PREFIX + runId;
    }

    /** Whether {@code r} reports a reconciliation rather than a worker's command. */
    public static boolean isReconciliation(SyncResult r) {
        return r.getCommandId().startsWith(COMMAND_ID_PREFIX);
    }

    /** The differences a reconciliation found, or empty when {@code r} is not one. */
    public static Optional<Long> differences(SyncResult r) {
        return isReconciliation(r) ? Optional.of(r.getFilesTransferred()) : Optional.empty();
    }
}
