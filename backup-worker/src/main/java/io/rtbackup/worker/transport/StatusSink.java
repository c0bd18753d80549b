package io.rtbackup.worker.transport;

/** Where a worker's periodic status records go: the compacted status topic, keyed by worker and destination. */
public interface StatusSink {
    /** Sends asynchronously; {@code value} null is a tombstone (the worker stopped). Failures are logged, not thrown. */
    void publishStatus(String key, byte[] value);
}
