package io.rtbackup.worker.pipeline;

import io.rtbackup.schema.SyncResult;

/** What other threads (result listener, producer callbacks) tell a pipeline; handled on the pipeline thread. */
sealed interface Signal {
    record ResultArrived(SyncResult result) implements Signal {}

    record SendFailed(String commandId, Exception error) implements Signal {}
}
