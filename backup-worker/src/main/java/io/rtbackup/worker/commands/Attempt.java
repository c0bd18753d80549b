package io.rtbackup.worker.commands;

import io.rtbackup.schema.SyncCommand;
import io.rtbackup.worker.coalesce.Batch;

/**
 * One command sent for a batch (its first try or a retry) and waiting for its result.
 *
 * @param number   1 for the batch's first command, then one more per retry
 * @param issuedNs when it was sent, on the pipeline's monotonic clock
 */
public record Attempt(String commandId, Batch batch, int number, SyncCommand command, long issuedNs) {
}
