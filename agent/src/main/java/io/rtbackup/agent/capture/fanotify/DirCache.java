package io.rtbackup.agent.capture.fanotify;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Directory file handle -> absolute path, least recently used first out. A reverse index sorted by path lets a
 * directory rename or removal drop every entry at or below the old and new names in O(log n + k), so a later
 * lookup resolves the directory's current path again instead of returning a stale one. A lookup allocates
 * nothing (it runs once per event); one thread only.
 */
final class DirCache {
    private final int capacity;
    private final TreeMap<byte[], Key> byPath = new TreeMap<>(Arrays::compareUnsigned);
    private final LinkedHashMap<Key, byte[]> byKey;
    /** Reused by {@link #get}: the map only compares it, never keeps it. */
    private final Key probe = new Key();

    /** fsid + handle type + handle bytes: equal for the same directory, whichever event named it. */
    private static final class Key {
        long fsid;
        int type;
        byte[] bytes;
        int hash;

        Key set(long fsid, int type, byte[] bytes) {
            this.fsid = fsid;
            this.type = type;
            this.bytes = bytes;
            this.hash = (Long.hashCode(fsid) * 31 + type) * 31 + Arrays.hashCode(bytes);
            return this;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.fsid == fsid && k.type == type
                    && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    DirCache(int capacity) {
        this.capacity = capacity;
        this.byKey = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
                if (size() > DirCache.this.capacity) {
                    byPath.remove(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    byte[] get(FanotifyRecord.FileHandle handle) {
        byte[] path = byKey.get(probe.set(handle.fsid(), handle.handleType(), handle.raw()));
        probe.bytes = null;
        return path;
    }

    void put(FanotifyRecord.FileHandle handle, byte[] path) {
        Key key = new Key().set(handle.fsid(), handle.handleType(), handle.bytes());
        Key other = byPath.put(path, key);
        if (other != null && !other.equals(key)) byKey.remove(other);
        byte[] old = byKey.put(key, path);
        if (old != null && !Arrays.equals(old, path)) byPath.remove(old);
    }

    /** Forgets {@code path} and everything below it. */
    void invalidate(byte[] path) {
        Key exact = byPath.remove(path);
        if (exact != null) byKey.remove(exact);
        byte[] from = Arrays.copyOf(path, path.length + 1);
        from[path.length] = '/';
        byte[] to = Arrays.copyOf(path, path.length + 1);
        to[path.length] = '/' + 1;
        Iterator<Map.Entry<byte[], Key>> it = byPath.subMap(from, true, to, false).entrySet().iterator();
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
