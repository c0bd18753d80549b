package io.rtbackup.worker.coalesce;

import io.rtbackup.schema.WirePath;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A path relative to a root, as raw bytes (Linux names are bytes; never decoded). The empty path is the root.
 * Immutable; equality is byte equality.
 */
public final class PathKey {
    public static final PathKey ROOT = new PathKey(new byte[0]);

    private final byte[] bytes;
    private final int hash;

    private PathKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /**
     * Why these bytes are not a usable event path, or {@code null}: the agents' rule ({@link WirePath}), so garbage
     * is refused at intake and never reaches a command; the empty path is the root.
     */
    public static String problem(byte[] path) {
        return WirePath.eventPathProblem(path).orElse(null);
    }

    /** Copies and normalises (repeated and trailing slashes removed); the caller has checked {@link #problem}. */
    public static PathKey of(byte[] path) {
        byte[] out = new byte[path.length];
        int n = 0;
        for (byte b : path) {
            if (b == '/' && (n == 0 || out[n - 1] == '/')) continue;
            out[n++] = b;
        }
        if (n > 0 && out[n - 1] == '/') n--;
        return n == 0 ? ROOT : new PathKey(Arrays.copyOf(out, n));
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    public boolean isRoot() {
        return bytes.length == 0;
    }

    /** True when this path lies strictly below {@code ancestor} (component-wise; the root is above everything). */
    public boolean isStrictlyUnder(PathKey ancestor) {
        if (ancestor.bytes.length >= bytes.length) return false;
        if (ancestor.bytes.length == 0) return true;
        if (bytes[ancestor.bytes.length] != '/') return false;
        return Arrays.equals(bytes, 0, ancestor.bytes.length, ancestor.bytes, 0, ancestor.bytes.length);
    }

    /** Proper ancestors from the nearest up to, not including, the root. */
    public Iterable<PathKey> ancestors() {
        return () -> new Iterator<>() {
            private int end = lastSlashBefore(bytes.length);

            @Override
            public boolean hasNext() {
                return end > 0;
            }

            @Override
            public PathKey next() {
                if (end <= 0) throw new NoSuchElementException();
                PathKey k = new PathKey(Arrays.copyOf(bytes, end));
                end = lastSlashBefore(end);
                return k;
            }
        };
    }

    private int lastSlashBefore(int end) {
        for (int i = end - 1; i >= 0; i--) if (bytes[i] == '/') return i;
        return -1;
    }

    /** A printable rendering for logs: printable ASCII as is, everything else as {@code \xNN}. */
    public String show() {
        return bytes.length == 0 ? "." : printable(bytes);
    }

    /** Printable ASCII as is, every other byte (and the backslash) as {@code \xNN}. */
    public static String printable(byte[] raw) {
        StringBuilder b = new StringBuilder(raw.length);
        for (byte x : raw) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') b.append((char) c);
            else b.append(String.format("\\x%02x", c));
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathKey k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return show();
    }
}
