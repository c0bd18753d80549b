package io.rtbackup.schema;

/**
 * Where a change or a sync stands in one agent's capture order, without any clock: the agent run
 * ({@code incarnation}, persisted and larger at every start) and the sequence number the agent assigned within it.
 * This is the one place that decides whether a sync already carried a change.
 *
 * <p>An event's position is {@code (FileEvent.incarnation, FileEvent.seq)}; a result's is
 * {@code (SyncResult.incarnation, SyncResult.publishedSeq)}, the last sequence assigned before rsync started. The
 * agent assigns a sequence only after the change was captured, so an event at or before a result's position (same
 * incarnation), or of an earlier incarnation, describes a change made before rsync started reading: an OK result
 * has it in the replica. Incarnation 0 means unknown (records of older agents): such a position is never covered
 * and covers nothing, which only costs a redundant sync.
 */
public record CapturePosition(long incarnation, long seq) {
    /** A position of unknown order: never covered, covers nothing. */
    public static final CapturePosition UNKNOWN = new CapturePosition(0, 0);

    public static CapturePosition of(FileEvent e) {
        return e.getIncarnation() > 0 ? new CapturePosition(e.getIncarnation(), e.getSeq()) : UNKNOWN;
    }

    /** The result's position: up to where the agent had captured when the sync started. */
    public static CapturePosition of(SyncResult r) {
        return r.getIncarnation() > 0 ? new CapturePosition(r.getIncarnation(), r.getPublishedSeq()) : UNKNOWN;
    }

    public boolean known() {
        return incarnation > 0;
    }

    /**
     * Whether a successful sync at this position carried the change at {@code event}: a later incarnation, or the
     * same one with a sequence at or before ours. {@code null} (no event) and unknown positions are never covered.
     */
    public boolean covers(CapturePosition event) {
        if (!known() || event == null || !event.known()) return false;
        return incarnation > event.incarnation || (incarnation == event.incarnation && event.seq <= seq);
    }

    /**
     * The newer of two event positions, for the newest change an entry carries; an unknown position is newest
     * (nothing covers it), {@code null} means no event.
     */
    public static CapturePosition newest(CapturePosition a, CapturePosition b) {
        if (a == null) return b;
        if (b == null) return a;
        if (!a.known()) return a;
        if (!b.known()) return b;
        return later(a, b);
    }

    /**
     * The later of two sync positions, which covers everything either covers; unknown ones cover nothing and lose.
     * {@code null} means no sync.
     */
    public static CapturePosition furthest(CapturePosition a, CapturePosition b) {
        if (a == null || !a.known()) return b == null || !b.known() ? a : b;
        if (b == null || !b.known()) return a;
        return later(a, b);
    }

    private static CapturePosition later(CapturePosition a, CapturePosition b) {
        if (a.incarnation != b.incarnation) return a.incarnation > b.incarnation ? a : b;
        return a.seq >= b.seq ? a : b;
    }

    @Override
    public String toString() {
        return known() ? incarnation + ":" + seq : "unknown";
    }
}
