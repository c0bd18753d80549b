package io.rtbackup.agent.rsync;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The exclude globs of one root ({@code root.<id>.exclude}) as rsync filter rules that make the same decisions as
 * {@code ExcludeMatcher} (what capture drops) for every path below the transfer root, when the transfer root is the
 * root itself: a glob without {@code /} matches a name at any depth, a glob with {@code /} (or a leading one)
 * matches the path from the root, {@code *} stays within a name, {@code **} crosses {@code /} ({@code **}{@code /}
 * also matches nothing), {@code ?} is one byte other than {@code /}, {@code \} escapes the next character, every
 * other character (also {@code [}) is itself, a trailing {@code /} is dropped (files and directories alike), and a
 * matching directory excludes everything below it (rsync does not descend into an excluded directory).
 *
 * <p>Translation: each glob is read into literals and wildcards exactly as {@code ExcludeMatcher} reads it, then
 * written in rsync's syntax: a name glob as an unanchored pattern without {@code /} (where {@code **} can only
 * match within the name, so it becomes {@code *}), a path glob as a pattern anchored with a leading {@code /}. rsync's
 * {@code **}{@code /} never matches nothing, so a path glob gets one rule per way of dropping its {@code **}{@code /}
 * parts. A pattern with a wildcard goes through rsync's wildmatch, where the literals {@code *?[} are written as
 * the classes {@code [*]}, {@code [?]}, {@code [[]} (a class, so no run of stars can form across a literal star, which
 * rsync would read as {@code **} or {@code dir/***}) and {@code \} as {@code \\}; a pattern without one is compared
 * literally by rsync, so it keeps its bytes as they are.
 *
 * <p>Each rule is one argument {@code --filter=- <pattern>}: rsync takes everything after "- " as the pattern, so
 * spaces, a leading '-', '!', '#', ',' and newlines in a glob stay in it. Arguments pass through the JVM's
 * locale, which under POSIX would mangle non-ASCII bytes, so a glob must be ASCII without NUL (checked when
 * built). Exclude rules also protect the receiver's matching entries from {@code --delete} (see
 * {@link #DELETE_EXCLUDED} for the opposite).
 */
public final class RsyncExcludes {
    /** rsync option that deletes excluded entries on the receiver too (a destination's {@code exclude-delete}). */
    public static final String DELETE_EXCLUDED = "--delete-excluded";
    /** No globs. */
    public static final RsyncExcludes NONE = new RsyncExcludes(List.of(), List.of(), false);
    /** Bound on the rules of one glob (2^n for n {@code **}{@code /} parts). */
    static final int MAX_DOUBLE_STAR_SLASHES = 8;

    private static final int STAR = -1;
    private static final int DOUBLE_STAR = -2;
    /** {@code **}{@code /}: nothing, or anything ending in '/'. */
    private static final int DOUBLE_STAR_SLASH = -3;
    private static final int QUESTION = -4;

    private final List<String> globs;
    private final List<String> patterns;
    private final boolean anchored;

    private RsyncExcludes(List<String> globs, List<String> patterns, boolean anchored) {
        this.globs = List.copyOf(globs);
        this.patterns = List.copyOf(patterns);
        this.anchored = anchored;
    }

    /**
     * The rules for {@code globs} (as {@code root.<id>.exclude} lists them).
     *
     * @throws IllegalArgumentException for a glob with a NUL or non-ASCII character, or more than
     *     {@value #MAX_DOUBLE_STAR_SLASHES} {@code **}{@code /} parts
     */
    public static RsyncExcludes of(List<String> globs) {
        List<String> patterns = new ArrayList<>();
        boolean anchored = false;
        for (String g : globs) {
            for (int i = 0; i < g.length(); i++) {
                char c = g.charAt(i);
                if (c == 0 || c > 0x7F) {
                    throw new IllegalArgumentException("exclude glob '" + g + "' has a NUL or non-ASCII character; "
                        + "rsync gets it as an argument, which the JVM's locale may mangle: write '?' (one byte) or "
                        + "'*' for it");
                }
            }
            byte[] p = g.getBytes(StandardCharsets.US_ASCII);
            // Leading and trailing '/' as ExcludeMatcher reads them.
            int start = p.length > 0 && p[0] == '/' ? 1 : 0;
            int end = p.length;
            if (end > start && p[end - 1] == '/') end--;
            if (end <= start) continue;
            boolean path = start == 1;
            for (int i = start; i < end; i++) path |= p[i] == '/';
            List<Integer> tokens = tokens(p, start, end);
            if (path) {
                anchored = true;
                patterns.addAll(pathPatterns(g, tokens));
            } else {
                patterns.add(write(tokens, false));
            }
        }
        return new RsyncExcludes(globs, patterns, anchored);
    }

    public List<String> globs() {
        return globs;
    }

    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** Whether some rule is anchored at the transfer root (it then only means the root's paths there). */
    public boolean anchored() {
        return anchored;
    }

    /** rsync patterns, in order (an anchored one starts with '/'). */
    public List<String> patterns() {
        return patterns;
    }

    /** One {@code --filter=- <pattern>} argument per pattern; they must come before any include rule of a run. */
    public List<String> filterArgs() {
        List<String> out = new ArrayList<>(patterns.size());
        for (String p : patterns) out.add("--filter=- " + p);
        return out;
    }

    /**
     * The glob {@code p[start..end)} as ExcludeMatcher reads it: bytes (0..255) are literals, negative values the
     * wildcards. {@code *} followed by {@code *} is a double star, and a double star followed by {@code /} the
     * optional {@code **}{@code /}.
     */
    private static List<Integer> tokens(byte[] p, int start, int end) {
        List<Integer> out = new ArrayList<>();
        for (int i = start; i < end; i++) {
            byte c = p[i];
            if (c == '*') {
                if (i + 1 < end && p[i + 1] == '*') {
                    if (i + 2 < end && p[i + 2] == '/') {
                        out.add(DOUBLE_STAR_SLASH);
                        i += 2;
                    } else {
                        out.add(DOUBLE_STAR);
                        i++;
                    }
                } else {
                    out.add(STAR);
                }
            } else if (c == '?') {
                out.add(QUESTION);
            } else if (c == '\\' && i + 1 < end) {
                out.add(p[++i] & 0xFF);
            } else {
                out.add(c & 0xFF);
            }
        }
        return out;
    }

    /** "/" + each way of taking the optional parts as nothing or as {@code **}{@code /}. */
    private static List<String> pathPatterns(String glob, List<Integer> tokens) {
        int optional = 0;
        for (int t : tokens) if (t == DOUBLE_STAR_SLASH) optional++;
        if (optional > MAX_DOUBLE_STAR_SLASHES) {
            throw new IllegalArgumentException("exclude glob '" + glob + "' has " + optional + " '**/' parts; at most "
                + MAX_DOUBLE_STAR_SLASHES + " are supported");
        }
        List<String> out = new ArrayList<>();
        for (int mask = 0; mask < 1 << optional; mask++) {
            List<Integer> t = new ArrayList<>();
            int k = 0;
            for (int tok : tokens) {
                if (tok != DOUBLE_STAR_SLASH) {
                    t.add(tok);
                } else if ((mask >> k++ & 1) == 1) {
                    t.add(DOUBLE_STAR);
                    t.add((int) '/');
                }
            }
            String pattern = "/" + write(t, true);
            if (!out.contains(pattern)) out.add(pattern);
        }
        return out;
    }

    /**
     * The tokens in rsync's syntax. A run of stars is one wildcard: {@code **} if it holds a double star and may
     * cross '/', else {@code *}; in a name glob every run is {@code *}.
     */
    private static String write(List<Integer> tokens, boolean crossSlash) {
        boolean wild = false;
        for (int t : tokens) wild |= t < 0 || t == '*' || t == '?' || t == '[';
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int i = 0; i < tokens.size(); i++) {
            int t = tokens.get(i);
            if (t == STAR || t == DOUBLE_STAR) {
                boolean dbl = false;
                int j = i;
                for (; j < tokens.size() && (tokens.get(j) == STAR || tokens.get(j) == DOUBLE_STAR); j++) {
                    dbl |= tokens.get(j) == DOUBLE_STAR;
                }
                i = j - 1;
                o.writeBytes(dbl && crossSlash ? new byte[] {'*', '*'} : new byte[] {'*'});
            } else if (t == QUESTION) {
                o.write('?');
            } else if (wild && (t == '*' || t == '?' || t == '[')) {
                o.write('[');
                o.write(t);
                o.write(']');
            } else if (wild && t == '\\') {
                o.write('\\');
                o.write('\\');
            } else {
                o.write(t);
            }
        }
        return o.toString(StandardCharsets.US_ASCII);
    }
}
