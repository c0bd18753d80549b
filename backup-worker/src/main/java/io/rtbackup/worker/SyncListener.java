package io.rtbackup.worker;

/** Told about every batch that finished (OK, or given up to the DLQ). Runs on a pipeline thread: keep it quick. */
@FunctionalInterface
public interface SyncListener {
    SyncListener NONE = report -> { };

    void onBatchFinished(SyncReport report);
}
