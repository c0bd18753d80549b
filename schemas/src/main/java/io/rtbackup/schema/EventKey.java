package io.rtbackup.schema;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The one key rule of {@code rtb.events} records: host id, NUL, root id, NUL, path bytes. One path of one root
 * always lands on one partition, so its events stay in order. Agents key what they capture with it, and
 * {@code rtb dlq replay} keys the events it publishes with it; {@link #parse} reads a key back (a dead-lettered
 * event's key still names its path when its value cannot be decoded).
 */
public final class EventKey {
    private EventKey() {
    }

    /** What a key names; {@code path} empty means the root itself. */
    public record Parts(String hostId, String rootId, byte[] path) {
    }

    public static byte[] of(String hostId, String rootId, byte[] path) {
        byte[] host = hostId.getBytes(StandardCharsets.UTF_8);
        byte[] root = rootId.getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[host.length + 1 + root.length + 1 + path.length];
        System.arraycopy(host, 0, key, 0, host.length);
        System.arraycopy(root, 0, key, host.length + 1, root.length);
        System.arraycopy(path, 0, key, host.length + root.length + 2, path.length);
        return key;
    }

    /**
     * The parts of a key {@link #of} made, or empty when {@code key} is not one: fewer than two NULs, an empty host
     * or root id. Host and root ids hold no NUL, so the first two NULs separate the parts.
     */
    public static Optional<Parts> parse(byte[] key) {
        if (key == null) return Optional.empty();
        int first = indexOfNul(key, 0);
        if (first <= 0) return Optional.empty();
        int second = indexOfNul(key, first + 1);
        if (second <= first + 1) return Optional.empty();
        return Optional.of(new Parts(new String(key, 0, first, StandardCharsets.UTF_8),
            new String(key, first + 1, second - first - 1, StandardCharsets.UTF_8),
            Arrays.copyOfRange(key, second + 1, key.length)));
    }

    private static int indexOfNul(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) return i;
        }
        return -1;
    }
}
