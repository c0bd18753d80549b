package io.rtbackup.worker.config;

/**
 * A shell-style name pattern: {@code *} matches any run of characters, {@code ?} one character, everything
 * else itself. Used for host ids and root ids in routes; ids are ASCII in practice and never contain {@code /}.
 */
public record Glob(String pattern) {
    public Glob {
        if (pattern == null || pattern.isEmpty()) throw new IllegalArgumentException("empty pattern");
    }

    public boolean matches(String name) {
        return matches(pattern, 0, name, 0);
    }

    // Iterative matcher with one backtracking point for the last '*', linear in practice for id-sized inputs.
    private static boolean matches(String p, int pi, String s, int si) {
        int starP = -1;
        int starS = -1;
        while (si < s.length()) {
            if (pi < p.length() && (p.charAt(pi) == '?' || p.charAt(pi) == s.charAt(si))) {
                pi++;
                si++;
            } else if (pi < p.length() && p.charAt(pi) == '*') {
                starP = pi++;
                starS = si;
            } else if (starP >= 0) {
                pi = starP + 1;
                si = ++starS;
            } else {
                return false;
            }
        }
        while (pi < p.length() && p.charAt(pi) == '*') pi++;
        return pi == p.length();
    }

    @Override
    public String toString() {
        return pattern;
    }
}
