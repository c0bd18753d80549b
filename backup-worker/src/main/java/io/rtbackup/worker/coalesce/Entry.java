package io.rtbackup.worker.coalesce;

import io.rtbackup.worker.offsets.EventRef;
import java.util.ArrayList;
import java.util.List;

/** A pending change of one path (or, with {@link PathKey#ROOT} in {@code KeyState.full}, of a whole root). */
final class Entry {
    final PathKey path;
    /** The agent may walk this path recursively (a directory or a subtree rescan): it conflicts with descendants. */
    boolean tree;
    /** A subtree rescan: it stands for every path below it, so it absorbs their pending changes. */
    boolean rescan;
    /** Created while nothing conflicting was pending or in flight: goes out at once. */
    boolean leading;
    long firstNs;
    long lastNs;
    long oldestEventTimeNs = Long.MAX_VALUE;
    /** Newest Kafka CreateTime (agent clock, ms) of the events merged here; MAX_VALUE when one is unknown. */
    long newestPublishedMs = Long.MIN_VALUE;
    int events;
    final List<EventRef> refs = new ArrayList<>(2);

    Entry(PathKey path, long nowNs) {
        this.path = path;
        this.firstNs = nowNs;
        this.lastNs = nowNs;
    }

    void add(EventRef ref, long eventTimeNs, long nowNs, long publishedMs) {
        refs.add(ref);
        newestPublishedMs = Math.max(newestPublishedMs, publishedMs);
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
        newestPublishedMs = Math.max(newestPublishedMs, other.newestPublishedMs);
        tree |= other.tree;
    }
}
