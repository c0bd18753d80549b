package io.rtbackup.agent.exec;

/** The verdict of {@link CommandValidator} on one command. */
public sealed interface ValidationResult permits ValidationResult.Accepted, ValidationResult.Rejected,
        ValidationResult.Unavailable {

    /** The command may run as this job. */
    record Accepted(ReplicationJob job) implements ValidationResult {
    }

    /** The command must not run; the reason goes into the REJECTED result and the log. */
    record Rejected(String reason) implements ValidationResult {
    }

    /**
     * The command is well-formed but cannot be checked now (the root cannot be opened, I/O error): answered FAILED
     * so the worker retries, instead of REJECTED, which would drop the paths for good.
     */
    record Unavailable(String reason) implements ValidationResult {
    }
}
