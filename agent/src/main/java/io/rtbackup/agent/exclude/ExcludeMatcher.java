package io.rtbackup.agent.exclude;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Exclude globs of one root, matched on raw bytes of root-relative paths (no charset conversion).
 *
 * <ul>
 *   <li>A glob without {@code /} matches a single name at any depth: {@code *.tmp}, {@code .cache}.</li>
 *   <li>A glob with {@code /} matches the path from the root: {@code build/out}, {@code logs/**}.</li>
 *   <li>{@code *} matches within one name, {@code **} across {@code /}, {@code ?} one byte other than
 *       {@code /}, {@code \} escapes the next character.</li>
 *   <li>A matching directory excludes everything below it.</li>
 * </ul>
 */
public final class ExcludeMatcher {

    private final List<byte[]> namePatterns = new ArrayList<>();
    private final List<byte[]> pathPatterns = new ArrayList<>();

    public ExcludeMatcher(List<String> globs) {
        for (String g : globs) {
            byte[] p = g.getBytes(StandardCharsets.UTF_8);
            if (p.length == 0) continue;
            int start = p[0] == '/' ? 1 : 0;
            byte[] q = java.util.Arrays.copyOfRange(p, start, p.length);
            if (q.length > 0 && q[q.length - 1] == '/') q = java.util.Arrays.copyOf(q, q.length - 1);
            if (q.length == 0) continue;
            (contains(q, (byte) '/') || start == 1 ? pathPatterns : namePatterns).add(q);
        }
    }

    public static ExcludeMatcher none() {
        return new ExcludeMatcher(List.of());
    }

    public boolean isEmpty() {
        return namePatterns.isEmpty() && pathPatterns.isEmpty();
    }

    /** Whether {@code rel} (relative to the root, no leading slash; empty = the root) is excluded. */
    public boolean excluded(byte[] rel) {
        if (rel.length == 0 || isEmpty()) return false;
        int start = 0;
        for (int i = 0; i <= rel.length; i++) {
            if (i == rel.length || rel[i] == '/') {
                for (byte[] p : namePatterns) {
                    if (match(p, 0, rel, start, i)) return true;
                }
                for (byte[] p : pathPatterns) {
                    if (match(p, 0, rel, 0, i)) return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    /** Glob {@code p[pi..]} against {@code s[si..end)}. */
    static boolean match(byte[] p, int pi, byte[] s, int si, int end) {
        while (pi < p.length) {
            byte c = p[pi];
            if (c == '*') {
                boolean doubleStar = pi + 1 < p.length && p[pi + 1] == '*';
                int next = pi + (doubleStar ? 2 : 1);
                if (doubleStar && next < p.length && p[next] == '/') {
                    // "**/" also matches nothing at all: a/**/b matches a/b
                    if (match(p, next + 1, s, si, end)) return true;
                }
                for (int k = si; k <= end; k++) {
                    if (match(p, next, s, k, end)) return true;
                    if (k < end && s[k] == '/' && !doubleStar) return false;
                }
                return false;
            }
            if (si >= end) return false;
            if (c == '?') {
                if (s[si] == '/') return false;
            } else {
                if (c == '\\' && pi + 1 < p.length) c = p[++pi];
                if (s[si] != c) return false;
            }
            pi++;
            si++;
        }
        return si == end;
    }

    private static boolean contains(byte[] a, byte b) {
        for (byte x : a) if (x == b) return true;
        return false;
    }
}
