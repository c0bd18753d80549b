package io.rtbackup.worker.coalesce;

import io.rtbackup.schema.CapturePosition;
import io.rtbackup.worker.route.RootKey;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Up to where the source agent had captured when a successful rsync last started reading each recently synced
 * path, and each root (full syncs). Replication is state-based: an event at or before that capture position
 * ({@link CapturePosition#covers}) describes a change the replica already has, so a backlog read after the sync
 * (say, events that waited in Kafka while the breaker was open) needs no second rsync of the path.
 *
 * <p>No clock takes part: the agent numbers events (incarnation, sequence) and stamps each result with the
 * position it had reached before rsync started, so a step of the agent's clock cannot make a later change look
 * replicated. Bounded: the least recently synced paths are forgotten, which only costs a redundant (harmless) sync.
 */
public final class ReplicatedSince {
    private final Map<RootKey, CapturePosition> roots = new HashMap<>();
    private final LinkedHashMap<Key, CapturePosition> paths;

    private record Key(RootKey root, PathKey path) {}

    public ReplicatedSince(int maxPaths) {
        this.paths = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, CapturePosition> eldest) {
                return size() > maxPaths;
            }
        };
    }

    /** A full sync of {@code root} at capture position {@code synced} succeeded. */
    public void fullSync(RootKey root, CapturePosition synced) {
        if (synced.known()) roots.merge(root, synced, CapturePosition::furthest);
    }

    /**
     * A sync listing {@code listed} (each with whatever lies under it, as the agent syncs recursively) at capture
     * position {@code synced} succeeded. An older sync finishing late never moves a path's position back.
     */
    public void paths(RootKey root, Collection<PathKey> listed, CapturePosition synced) {
        if (!synced.known()) return;
        for (PathKey p : listed) paths.merge(new Key(root, p), synced, CapturePosition::furthest);
    }

    /**
     * Whether an event for {@code path} ({@code null}: for the whole root, e.g. an overflow) at capture position
     * {@code event} is already in the replica.
     */
    public boolean covers(RootKey root, PathKey path, CapturePosition event) {
        CapturePosition full = roots.get(root);
        if (full != null && full.covers(event)) return true;
        if (path == null) return false;
        // The agent syncs a listed directory recursively, so a sync of an ancestor covers the path too.
        if (syncedPast(root, path, event)) return true;
        for (PathKey a : path.ancestors()) if (syncedPast(root, a, event)) return true;
        return false;
    }

    private boolean syncedPast(RootKey root, PathKey path, CapturePosition event) {
        CapturePosition at = paths.get(new Key(root, path));
        return at != null && at.covers(event);
    }
}
