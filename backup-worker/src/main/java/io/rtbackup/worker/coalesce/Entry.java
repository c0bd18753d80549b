package io.rtbackup.worker.coalesce;

import io.rtbackup.schema.CapturePosition;
import io.rtbackup.worker.offsets.EventRef;
import java.util.ArrayList;
import java.util.List;

/** A pending change of one path (or, with {@link PathKey#ROOT} in {@code RootState.full}, of a whole root). */
final class Entry {
    final PathKey path;
    /** The agent may walk this path recursively (a directory or a subtree rescan): it conflicts with descendants. */
    boolean tree;
    /** A subtree rescan: it stands for every path below it, so it absorbs their pending changes. */
    boolean rescan;
    /** Its path was not issued within the max delay when it was created: goes out at once (once unblocked). */
    boolean leading;
    long firstNs;
    long lastNs;
    long oldestEventTimeNs = Long.MAX_VALUE;
    /** Newest capture position of the events merged here (unknown once one is); null before the first. */
    CapturePosition newest;
    int events;
    final List<EventRef> refs = new ArrayList<>(2);

    Entry(PathKey path, long nowNs) {
        this.path = path;
        this.firstNs = nowNs;
        this.lastNs = nowNs;
    }

    void add(EventRef ref, long eventTimeNs, long nowNs, CapturePosition position) {
        refs.add(ref);
        newest = CapturePosition.newest(newest, position);
        events++;
        lastNs = Math.max(lastNs, nowNs);
        oldestEventTimeNs = Math.min(oldestEventTimeNs, eventTimeNs);
    }

    void absorb(Entry other) {
        refs.addAll(other.refs);
        events += other.events;
        firstNs = Math.min(firstNs, other.firstNs);
        lastNs = Math.max(lastNs, other.lastNs);
        oldestEventTimeNs = Math.min(oldestEventTimeNs, other.oldestEventTimeNs);
        newest = CapturePosition.newest(newest, other.newest);
        tree |= other.tree;
    }
}
