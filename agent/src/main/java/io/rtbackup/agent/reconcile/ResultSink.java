package io.rtbackup.agent.reconcile;

import io.rtbackup.schema.SyncResult;

/** Where reconciliations are reported besides logs and metrics: the results topic, or nowhere. */
@FunctionalInterface
public interface ResultSink extends AutoCloseable {
    /** Reports nowhere ({@code rtb reconcile} prints instead). */
    ResultSink NONE = r -> { };

    /** Hands the result over; never blocks for long, never throws for a delivery failure. */
    void publish(SyncResult result);

    @Override
    default void close() {
    }
}
