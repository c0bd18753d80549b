package io.rtbackup.worker.pipeline;

import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.transport.DeadLetter;
import java.util.List;

/** What other threads (result listener, producer callbacks) tell a pipeline; handled on the pipeline thread. */
sealed interface Signal {
    record ResultArrived(SyncResult result) implements Signal {}

    record SendFailed(String commandId, Exception error) implements Signal {}

    record DeadLetterStored(List<EventRef> refs) implements Signal {}

    record DeadLetterFailed(DeadLetter letter, List<EventRef> refs, Exception error) implements Signal {}
}
