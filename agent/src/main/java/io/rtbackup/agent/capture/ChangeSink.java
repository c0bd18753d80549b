package io.rtbackup.agent.capture;

/** Receives raw changes from a capture source's reader thread. Implementations must not block for long. */
@FunctionalInterface
public interface ChangeSink {
    void accept(RawChange change);
}
