package io.rtbackup.worker.coalesce;

import io.rtbackup.worker.route.RootKey;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * What the {@link Coalescer} knows of one (host, root): its pending changes (one {@link Entry} per path, or one pending
 * full-root sync), what of it is in flight (paths, subtrees, the whole root) and which paths went out within the max
 * delay. Answers whether a path conflicts with what is in flight ({@link #blocked}) and which pending rescan covers a
 * path. Plain state of the coalescer's thread.
 */
final class RootState {
    final RootKey key;
    final LinkedHashMap<PathKey, Entry> pending = new LinkedHashMap<>();
    /** A pending full-root sync (it has absorbed every pending path of the root), or null. */
    Entry full;
    /** Pending entries that are subtree rescans. */
    int pendingRescans;
    final Set<PathKey> busy = new HashSet<>();
    final Set<PathKey> busyTrees = new HashSet<>();
    boolean busyFull;
    int inFlight;
    /** Paths issued within the max delay, oldest first (re-inserted on every issue). */
    final LinkedHashMap<PathKey, Long> recentlyIssued = new LinkedHashMap<>();
    /** Lower bound of the earliest time something may be ready; MIN_VALUE = look now, MAX_VALUE = nothing. */
    long checkAtNs = Long.MIN_VALUE;

    RootState(RootKey key) {
        this.key = key;
    }

    /** Nothing pending, nothing in flight. */
    boolean quiet() {
        return pending.isEmpty() && full == null && inFlight == 0;
    }

    /** Quiet, and no path issued within the max delay: the root's state can be forgotten. */
    boolean idle() {
        return quiet() && recentlyIssued.isEmpty();
    }

    /** Forgets issues older than {@code maxDelayNs}; returns when the oldest remaining one expires. */
    long expireIssued(long now, long maxDelayNs) {
        for (var it = recentlyIssued.values().iterator(); it.hasNext(); ) {
            long at = it.next();
            if (now - at < maxDelayNs) return at + maxDelayNs;
            it.remove();
        }
        return Long.MAX_VALUE;
    }

    /** The pending subtree rescan at or above {@code path}'s parents that stands for it, or null. */
    Entry pendingRescanCovering(PathKey path) {
        if (pendingRescans == 0) return null;
        for (PathKey a : path.ancestors()) {
            Entry e = pending.get(a);
            if (e != null && e.rescan) return e;
        }
        return null;
    }

    /**
     * True when {@code path} (recursive if {@code tree}) may not be issued now: the root is in a full sync, the path is
     * in flight, an ancestor's subtree is, or (for a tree) a path below it is.
     */
    boolean blocked(PathKey path, boolean tree) {
        if (busyFull) return true;
        if (busy.contains(path)) return true;
        if (!busyTrees.isEmpty() && !path.isRoot()) {
            if (busyTrees.contains(PathKey.ROOT)) return true;
            for (PathKey a : path.ancestors()) if (busyTrees.contains(a)) return true;
        }
        if (tree) {
            for (PathKey b : busy) if (b.isStrictlyUnder(path)) return true;
        }
        return false;
    }
}
