package io.rtbackup.agent.event;

import io.rtbackup.schema.CapturePosition;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's capture order within one incarnation (one agent run): the publisher takes the next sequence number
 * for each event it sends, the executor reads the last one taken before rsync starts. A number is taken only after
 * the change was captured, so "taken before the sync started" implies "changed before the sync started" — which
 * is what lets a worker skip the event once an OK result at or past it arrives ({@link CapturePosition#covers}).
 *
 * <p>Incarnation 0 means unknown: events and results stamped with it never count as already replicated. Thread-safe.
 */
public final class CaptureSequence {
    private final long incarnation;
    private final AtomicLong last = new AtomicLong();

    /** @param incarnation this run's incarnation (see {@code agent.state.Incarnation}); 0: unknown */
    public CaptureSequence(long incarnation) {
        if (incarnation < 0) throw new IllegalArgumentException("incarnation must be >= 0, got " + incarnation);
        this.incarnation = incarnation;
    }

    /** For wiring without a state directory (tests of one part): nothing it stamps counts as replicated. */
    public static CaptureSequence unknown() {
        return new CaptureSequence(0);
    }

    public long incarnation() {
        return incarnation;
    }

    /** The sequence number of a newly captured event: 1, 2, 3... */
    public long next() {
        return last.incrementAndGet();
    }

    /** Where capture stands now: every event numbered so far is at or before it. */
    public CapturePosition assignedSoFar() {
        return incarnation > 0 ? new CapturePosition(incarnation, last.get()) : CapturePosition.UNKNOWN;
    }
}
