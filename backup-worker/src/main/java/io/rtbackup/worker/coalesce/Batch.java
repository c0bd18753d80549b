package io.rtbackup.worker.coalesce;

import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.route.RootKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.IntPredicate;

/**
 * A set of coalesced paths of one (host, root) that goes to the destination as one command, with the events it
 * makes durable. Owned by the {@link Coalescer} while in flight (it may absorb later changes for a retry).
 */
public final class Batch {
    private final long id;
    private final RootKey key;
    private final boolean fullSync;
    private final Map<PathKey, Boolean> paths = new LinkedHashMap<>();
    private final List<EventRef> refs = new ArrayList<>();
    /** The events of each path (all of them under {@link PathKey#ROOT} for a full sync). */
    private final Map<PathKey, List<EventRef>> refsByPath = new LinkedHashMap<>();
    private long oldestEventTimeNs = Long.MAX_VALUE;
    private int events;

    Batch(long id, RootKey key, boolean fullSync) {
        this.id = id;
        this.key = key;
        this.fullSync = fullSync;
    }

    /** Adds an entry; returns whether the path newly became a tree (recursive) path of this batch. */
    boolean absorb(Entry e) {
        refs.addAll(e.refs);
        refsByPath.computeIfAbsent(fullSync ? PathKey.ROOT : e.path, p -> new ArrayList<>()).addAll(e.refs);
        events += e.events;
        oldestEventTimeNs = Math.min(oldestEventTimeNs, e.oldestEventTimeNs);
        if (fullSync) return false;
        Boolean before = paths.get(e.path);
        boolean tree = e.tree || Boolean.TRUE.equals(before);
        paths.put(e.path, tree);
        return tree && !Boolean.TRUE.equals(before);
    }

    void dropRefs(IntPredicate partition) {
        refs.removeIf(r -> partition.test(r.partition()));
        for (List<EventRef> l : refsByPath.values()) l.removeIf(r -> partition.test(r.partition()));
    }

    public long id() {
        return id;
    }

    public RootKey key() {
        return key;
    }

    /** Sync the whole root (with deletion of extraneous files); {@link #paths()} is empty then. */
    public boolean fullSync() {
        return fullSync;
    }

    public List<PathKey> paths() {
        return List.copyOf(paths.keySet());
    }

    int pathCount() {
        return paths.size();
    }

    boolean isTree(PathKey path) {
        return Boolean.TRUE.equals(paths.get(path));
    }

    /** The consumed events this batch covers; they are done when the batch's command succeeds. */
    public List<EventRef> refs() {
        return Collections.unmodifiableList(refs);
    }

    /**
     * The events of the batch's entries that {@code path} lies at or under (the listed path the agent found it
     * in), or all of them for a full sync or a path under none of its entries.
     */
    public List<EventRef> refsCovering(PathKey path) {
        if (fullSync) return refs();
        List<EventRef> out = new ArrayList<>();
        refsByPath.forEach((p, l) -> {
            if (p.equals(path) || path.isStrictlyUnder(p)) out.addAll(l);
        });
        boolean listed = paths.containsKey(path);
        for (PathKey a : path.ancestors()) listed |= paths.containsKey(a);
        return listed ? out : refs();
    }

    /** How many events were coalesced into this batch (for the coalescing ratio). */
    public int eventCount() {
        return events;
    }

    /** Capture time of the oldest covered event, ns since the epoch. */
    public OptionalLong oldestEventTimeNs() {
        return oldestEventTimeNs == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(oldestEventTimeNs);
    }

    @Override
    public String toString() {
        return "batch " + id + " " + key + (fullSync ? " full-sync" : " " + paths.size() + " path(s)") + ", "
            + events + " event(s)";
    }
}
