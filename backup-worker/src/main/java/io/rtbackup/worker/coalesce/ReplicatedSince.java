package io.rtbackup.worker.coalesce;

import io.rtbackup.worker.route.RootKey;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * When a successful rsync last started reading each recently synced path, and each root (full syncs), on the
 * source agent's clock. Replication is state-based: an event the agent published before that instant describes a
 * change the replica already has, so a backlog read after the sync (say, events that waited in Kafka while the
 * breaker was open) needs no second rsync of the path.
 *
 * <p>Both times are the agent's: the event's Kafka CreateTime is set by the agent's producer after the change was
 * captured, and {@code SyncResult.startedAtMs} before the agent looked at the paths. Bounded: the least recently
 * synced paths are forgotten, which only costs a redundant (harmless) sync.
 */
public final class ReplicatedSince {
    private final Map<RootKey, Long> roots = new HashMap<>();
    private final LinkedHashMap<Key, Long> paths;

    private record Key(RootKey root, PathKey path) {}

    public ReplicatedSince(int maxPaths) {
        this.paths = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Long> eldest) {
                return size() > maxPaths;
            }
        };
    }

    /** A full sync of {@code root} that started at {@code startedAtMs} succeeded. */
    public void fullSync(RootKey root, long startedAtMs) {
        if (startedAtMs > 0) roots.merge(root, startedAtMs, Math::max);
    }

    /** A sync listing {@code synced} (each with whatever lies under it, as the agent syncs recursively) started at {@code startedAtMs} and succeeded. */
    public void paths(RootKey root, Collection<PathKey> synced, long startedAtMs) {
        if (startedAtMs <= 0) return;
        for (PathKey p : synced) paths.merge(new Key(root, p), startedAtMs, Math::max);
    }

    /**
     * Whether an event for {@code path} ({@code null}: for the whole root, e.g. an overflow) published at
     * {@code publishedAtMs} is already in the replica. Strictly earlier only: the same millisecond is not enough.
     */
    public boolean covers(RootKey root, PathKey path, long publishedAtMs) {
        Long full = roots.get(root);
        if (full != null && publishedAtMs < full) return true;
        if (path == null) return false;
        // The agent syncs a listed directory recursively, so a sync of an ancestor covers the path too.
        if (syncedAfter(root, path, publishedAtMs)) return true;
        for (PathKey a : path.ancestors()) if (syncedAfter(root, a, publishedAtMs)) return true;
        return false;
    }

    private boolean syncedAfter(RootKey root, PathKey path, long publishedAtMs) {
        Long at = paths.get(new Key(root, path));
        return at != null && publishedAtMs < at;
    }
}
