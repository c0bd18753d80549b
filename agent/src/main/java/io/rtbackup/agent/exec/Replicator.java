package io.rtbackup.agent.exec;

/** Copies the state of a job's paths to its destination. Implementations must be safe for concurrent calls. */
public interface Replicator extends AutoCloseable {

    /** Runs the job to completion (or its timeout) and reports; never throws for a failed transfer. */
    ReplicationReport replicate(ReplicationJob job);

    /** Stops whatever is still running. */
    @Override
    void close();
}
