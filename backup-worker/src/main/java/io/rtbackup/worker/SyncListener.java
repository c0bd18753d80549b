package io.rtbackup.worker;

/** Told about every batch that finished (OK, or given up to the DLQ). Runs on a pipeline thread: keep it quick. */
@FunctionalInterface
public interface SyncListener {
    SyncListener NONE = report -> { };

    void onBatchFinished(SyncReport report);

    /** An attempt failed and the batch will be retried. Runs on a pipeline thread: keep it quick. */
    default void onAttemptFailed(SyncFailure failure) {
    }

    /** Tells {@code this}, then {@code next}. */
    default SyncListener andThen(SyncListener next) {
        SyncListener first = this;
        return new SyncListener() {
            @Override
            public void onBatchFinished(SyncReport report) {
                first.onBatchFinished(report);
                next.onBatchFinished(report);
            }

            @Override
            public void onAttemptFailed(SyncFailure failure) {
                first.onAttemptFailed(failure);
                next.onAttemptFailed(failure);
            }
        };
    }
}
