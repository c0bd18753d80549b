package io.rtbackup.schema;

import java.util.Optional;

/**
 * The one syntax of a path on the wire ({@code FileEvent.path}, {@code FileEvent.otherPath}, each of
 * {@code SyncCommand.paths}): raw bytes relative to a root, exactly as Linux names them. Workers refuse a bad path
 * when the event arrives; agents refuse it again before rsync sees it, with the same rule.
 *
 * <p>Refused: an absolute path, a NUL byte, an empty component ({@code //} or a trailing {@code /}), a {@code .} or
 * {@code ..} component, a component longer than NAME_MAX (255 bytes) and a path longer than PATH_MAX less its NUL
 * (4095 bytes). Everything else a Linux name may hold is accepted, however hostile: newlines, a leading {@code -},
 * bytes 0x80-0xFF that are not UTF-8, backslashes, glob characters. Only events may carry the empty path, which
 * names the root itself; a command replicates a whole root with {@code fullSync} instead.
 */
public final class WirePath {
    /** Linux PATH_MAX less the terminating NUL. */
    public static final int MAX_PATH_BYTES = 4095;
    /** Linux NAME_MAX. */
    public static final int MAX_NAME_BYTES = 255;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private WirePath() {}

    /** Why {@code path} cannot be a {@code FileEvent} path (empty is the root and fine), or empty when it can. */
    public static Optional<String> eventPathProblem(byte[] path) {
        return path.length == 0 ? Optional.empty() : syntax(path);
    }

    /** Why {@code path} cannot be one of {@code SyncCommand.paths}, or empty when it can. */
    public static Optional<String> commandPathProblem(byte[] path) {
        if (path.length == 0) {
            return Optional.of("empty path (the root itself); send a fullSync to replicate a whole root");
        }
        return syntax(path);
    }

    private static Optional<String> syntax(byte[] path) {
        if (path.length > MAX_PATH_BYTES) {
            return Optional.of("path of " + path.length + " bytes is longer than PATH_MAX; at most " + MAX_PATH_BYTES
                + " bytes are allowed");
        }
        String shown = show(path);
        if (path[0] == '/') return Optional.of("absolute path '" + shown + "'; paths must be relative to the root");
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i < path.length && path[i] == 0) {
                return Optional.of("path '" + shown + "' contains a NUL byte, which no Linux name can hold");
            }
            if (i == path.length || path[i] == '/') {
                int len = i - start;
                if (len == 0) {
                    return Optional.of("path '" + shown + "' has an empty component (// or trailing /); "
                        + "components are separated by single '/'");
                }
                if (len == 1 && path[start] == '.') {
                    return Optional.of("path '" + shown + "' has a '.' component; paths must be plain, without '.' or '..'");
                }
                if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
                    return Optional.of("path '" + shown + "' has a '..' component; paths must stay under the root");
                }
                if (len > MAX_NAME_BYTES) {
                    return Optional.of("path '" + shown + "' has a component of " + len + " bytes, longer than "
                        + "NAME_MAX; at most " + MAX_NAME_BYTES + " bytes are allowed");
                }
                start = i + 1;
            }
        }
        return Optional.empty();
    }

    /**
     * Printable ASCII as is, the backslash doubled, newline, tab and carriage return as {@code \n \t \r}, every other
     * byte as {@code \xNN}: one line, and the same rendering as the agent's {@code BytePaths.show}.
     */
    public static String show(byte[] path) {
        StringBuilder sb = new StringBuilder(path.length + 8);
        for (byte x : path) {
            int c = x & 0xFF;
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c >= 0x20 && c < 0x7F) sb.append((char) c);
                    else sb.append("\\x").append(HEX[c >>> 4]).append(HEX[c & 0xF]);
                }
            }
        }
        return sb.toString();
    }
}
