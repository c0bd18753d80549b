package io.rtbackup.agent.capture.fanotify;

import io.rtbackup.agent.capture.BytesKey;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Directory file handle -> absolute path, least recently used first out. A reverse index sorted by path lets a
 * directory rename or removal drop every entry at or below the old and new names in O(log n + k), so a later
 * lookup resolves the directory's current path again instead of returning a stale one.
 */
final class DirCache {
    private final int capacity;
    private final TreeMap<byte[], BytesKey> byPath = new TreeMap<>(Arrays::compareUnsigned);
    /** By fsid + handle type + handle bytes. */
    private final LinkedHashMap<BytesKey, byte[]> byKey;

    DirCache(int capacity) {
        this.capacity = capacity;
        this.byKey = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<BytesKey, byte[]> eldest) {
                if (size() > DirCache.this.capacity) {
                    byPath.remove(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    byte[] get(BytesKey key) {
        return byKey.get(key);
    }

    void put(BytesKey key, byte[] path) {
        BytesKey other = byPath.put(path, key);
        if (other != null && !other.equals(key)) byKey.remove(other);
        byte[] old = byKey.put(key, path);
        if (old != null && !Arrays.equals(old, path)) byPath.remove(old);
    }

    /** Forgets {@code path} and everything below it. */
    void invalidate(byte[] path) {
        BytesKey exact = byPath.remove(path);
        if (exact != null) byKey.remove(exact);
        byte[] from = Arrays.copyOf(path, path.length + 1);
        from[path.length] = '/';
        byte[] to = Arrays.copyOf(path, path.length + 1);
        to[path.length] = '/' + 1;
        Iterator<Map.Entry<byte[], BytesKey>> it = byPath.subMap(from, true, to, false).entrySet().iterator();
        while (it.hasNext()) {
            byKey.remove(it.next().getValue());
            it.remove();
        }
    }

    void clear() {
        byKey.clear();
        byPath.clear();
    }

    int size() {
        return byKey.size();
    }
}
