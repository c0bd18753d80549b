package io.rtbackup.fs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Path arithmetic on raw byte paths ('/'-separated, no encoding assumed). Nothing here touches the file system.
 * Trailing slashes are ignored where a path is split into components.
 */
public final class BytePaths {

    private static final byte SLASH = '/';
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Unsigned lexicographic order, the order of {@code LC_ALL=C sort} and of the tree walk. */
    public static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    private BytePaths() {
    }

    /** UTF-8 bytes of a configured (in practice ASCII) path. */
    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Plain concatenation of the parts' bytes. */
    public static byte[] concat(byte[]... parts) {
        int len = 0;
        for (byte[] p : parts) {
            len += p.length;
        }
        byte[] out = new byte[len];
        int pos = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }

    /**
     * {@code a + "/" + b} with exactly one slash between them; an empty {@code a} yields {@code b}, an empty
     * {@code b} yields {@code a}.
     *
     * @throws IllegalArgumentException if {@code b} is absolute (joining would silently drop {@code a})
     */
    public static byte[] join(byte[] a, byte[] b) {
        if (b.length > 0 && b[0] == SLASH) {
            throw new IllegalArgumentException("cannot join absolute path '" + show(b) + "' to '" + show(a) + "'");
        }
        if (a.length == 0) {
            return b.clone();
        }
        if (b.length == 0) {
            return a.clone();
        }
        if (a[a.length - 1] == SLASH) {
            return concat(a, b);
        }
        return concat(a, new byte[] {SLASH}, b);
    }

    /** {@link #join(byte[], byte[])} applied left to right. */
    public static byte[] join(byte[] first, byte[]... more) {
        byte[] out = first;
        for (byte[] m : more) {
            out = join(out, m);
        }
        return out == first ? first.clone() : out;
    }

    public static boolean isAbsolute(byte[] path) {
        return path.length > 0 && path[0] == SLASH;
    }

    /** Length without trailing slashes, keeping a lone "/" . */
    private static int trimmedLength(byte[] p) {
        int len = p.length;
        while (len > 1 && p[len - 1] == SLASH) {
            len--;
        }
        return len;
    }

    /**
     * True if {@code prefix} equals {@code path} or is one of its ancestors, comparing whole components:
     * "/a/b" starts with "/a", "/a/" and "/", but "/a/bc" does not start with "/a/b". An empty prefix matches
     * every relative path.
     */
    public static boolean startsWith(byte[] path, byte[] prefix) {
        int plen = trimmedLength(prefix);
        if (plen == 0) {
            return !isAbsolute(path);
        }
        if (plen == 1 && prefix[0] == SLASH) {
            return isAbsolute(path);
        }
        int len = trimmedLength(path);
        if (len < plen || !Arrays.equals(path, 0, plen, prefix, 0, plen)) {
            return false;
        }
        return len == plen || path[plen] == SLASH;
    }

    /**
     * The path of {@code path} relative to {@code root}, without a leading slash; empty if they are the same
     * directory.
     *
     * @throws IllegalArgumentException if {@code path} is not {@code root} or below it
     */
    public static byte[] relativize(byte[] root, byte[] path) {
        if (!startsWith(path, root)) {
            throw new IllegalArgumentException("'" + show(path) + "' is not under '" + show(root) + "'");
        }
        int plen = trimmedLength(root);
        int start = plen == 0 ? 0 : (plen == 1 && root[0] == SLASH) ? 1 : plen + 1;
        int end = trimmedLength(path);
        if (start >= end) {
            return new byte[0];
        }
        while (start < end && path[start] == SLASH) {
            start++;
        }
        return Arrays.copyOfRange(path, start, end);
    }

    /**
     * Everything before the last component: "/a/b" to "/a", "/a" to "/", "a/b" to "a", "a" to "" (the
     * directory a relative path is relative to). "/" and "" are their own parents.
     */
    public static byte[] parent(byte[] path) {
        int len = trimmedLength(path);
        if (len == 0 || (len == 1 && path[0] == SLASH)) {
            return Arrays.copyOf(path, len);
        }
        int i = len - 1;
        while (i >= 0 && path[i] != SLASH) {
            i--;
        }
        if (i < 0) {
            return new byte[0];
        }
        int end = i;
        while (end > 0 && path[end - 1] == SLASH) {
            end--;
        }
        return end == 0 ? new byte[] {SLASH} : Arrays.copyOf(path, end);
    }

    /** The last component: "/a/b/" to "b", "a" to "a", "/" and "" to "". */
    public static byte[] name(byte[] path) {
        int len = trimmedLength(path);
        if (len == 1 && path[0] == SLASH) {
            return new byte[0];
        }
        int i = len - 1;
        while (i >= 0 && path[i] != SLASH) {
            i--;
        }
        return Arrays.copyOfRange(path, i + 1, len);
    }

    /** The non-empty components; "." and ".." are returned as they are. */
    public static List<byte[]> components(byte[] path) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i == path.length || path[i] == SLASH) {
                if (i > start) {
                    out.add(Arrays.copyOfRange(path, start, i));
                }
                start = i + 1;
            }
        }
        return out;
    }

    /**
     * A printable, unambiguous ASCII rendering for logs and messages: printable ASCII stays as is, backslash
     * becomes {@code \\}, newline/tab/CR become {@code \n}/{@code \t}/{@code \r}, every other byte (control
     * bytes, 0x7F, all bytes &gt;= 0x80 whether or not they form UTF-8) becomes {@code \xNN}. {@code null}
     * renders as "null". Reversible with {@link #unshow(String)}.
     */
    public static String show(byte[] path) {
        if (path == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(path.length + 8);
        for (byte b : path) {
            int c = b & 0xFF;
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c >= 0x20 && c < 0x7F) {
                sb.append((char) c);
            } else {
                sb.append("\\x").append(HEX[c >>> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }

    /**
     * The inverse of {@link #show(byte[])}, for paths typed on a command line.
     *
     * @throws IllegalArgumentException on a malformed escape or a non-ASCII character
     */
    public static byte[] unshow(String shown) {
        byte[] out = new byte[shown.length()];
        int n = 0;
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            if (c > 0x7F) {
                throw new IllegalArgumentException("non-ASCII character at index " + i + " of '" + shown
                        + "': write bytes >= 0x80 as \\xNN");
            }
            if (c != '\\') {
                out[n++] = (byte) c;
                continue;
            }
            if (i + 1 >= shown.length()) {
                throw new IllegalArgumentException("dangling backslash at the end of '" + shown + "'");
            }
            char e = shown.charAt(++i);
            switch (e) {
                case '\\' -> out[n++] = '\\';
                case 'n' -> out[n++] = '\n';
                case 't' -> out[n++] = '\t';
                case 'r' -> out[n++] = '\r';
                case 'x' -> {
                    if (i + 2 >= shown.length()) {
                        throw new IllegalArgumentException("incomplete \\x escape at index " + (i - 1) + " of '"
                                + shown + "'");
                    }
                    int hi = Character.digit(shown.charAt(i + 1), 16);
                    int lo = Character.digit(shown.charAt(i + 2), 16);
                    if (hi < 0 || lo < 0) {
                        throw new IllegalArgumentException("bad \\x escape at index " + (i - 1) + " of '" + shown
                                + "': expected two hex digits");
                    }
                    out[n++] = (byte) ((hi << 4) | lo);
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + e + " at index " + (i - 1)
                        + " of '" + shown + "'");
            }
        }
        return Arrays.copyOf(out, n);
    }
}
