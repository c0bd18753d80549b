package io.rtbackup.agent.rsync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What an rsync process reads on its stdin; written raw (file names are bytes, not text), then stdin is closed. */
public sealed interface RsyncStdin {

    /** Nothing: stdin is closed at once. */
    RsyncStdin NONE = new Bytes(new byte[0]);

    /** Writes this input to the child's stdin (the caller closes it). */
    void writeTo(OutputStream out) throws IOException;

    /**
     * Root-relative paths for {@link RsyncArgs#filesFromStdin()}: each written as {@code ./<path>} and a NUL.
     * rsync skips {@code --files-from} entries starting with '#' or ';' as comments; the "./" keeps such names.
     * The byte arrays are not copied: the caller must not change them while the run lasts.
     */
    record FileList(List<byte[]> paths) implements RsyncStdin {
        private static final byte[] DOT_SLASH = {'.', '/'};

        public FileList {
            paths = List.copyOf(paths);
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            for (byte[] p : paths) {
                out.write(DOT_SLASH);
                out.write(p);
                out.write(0);
            }
        }
    }

    /**
     * Include rules for {@link RsyncArgs#selectFromStdin()} that narrow a recursive transfer of the root to
     * {@code paths} (root-relative): each path, everything below it, and the directories leading to it; the
     * {@code --exclude=*} after them keeps everything else out. With {@code --delete} a selected path that the
     * source lacks is extraneous on the receiver and deleted (recursively), while every excluded entry is protected.
     *
     * <p>Each rule is written NUL-terminated ({@code --from0}) and anchored (leading "/"), so no name can end a
     * rule, start a comment ('#', ';'), carry a rule prefix ("- ", "+ ") or clear the list ("!"). rsync matches a
     * pattern with none of {@code *?[} literally, backslash included; one with any of them through wildmatch, where
     * a backslash escapes the next character. So a pattern that holds a wildcard (its name does, or the
     * {@code /**} of "everything below") has each of {@code *?[\} in its names escaped, and one without keeps
     * names as they are. Verified with rsync 3.2.7 on names with {@code *?[]}, '\', newline, a leading
     * '-', bytes 0x80-0xFF and 255-byte names.
     */
    record Selection(List<byte[]> paths) implements RsyncStdin {
        public Selection {
            paths = List.copyOf(paths);
        }

        /** The rules, in order: each path's ancestors (directories only), the path, everything below it. */
        public List<byte[]> rules() {
            Set<ByteBuffer> seen = new HashSet<>();
            List<byte[]> out = new ArrayList<>();
            for (byte[] p : paths) {
                for (int i = 0; i < p.length; i++) {
                    if (p[i] == '/') add(out, seen, pattern(Arrays.copyOf(p, i), false, "/"));
                }
                add(out, seen, pattern(p, false, ""));
                add(out, seen, pattern(p, true, "/**"));
            }
            return out;
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            for (byte[] r : rules()) {
                out.write(r);
                out.write(0);
            }
        }

        private static void add(List<byte[]> out, Set<ByteBuffer> seen, byte[] rule) {
            if (seen.add(ByteBuffer.wrap(rule))) out.add(rule);
        }

        /** "/" + path + suffix, the path escaped when the pattern will be a wildcard one. */
        static byte[] pattern(byte[] path, boolean suffixIsWild, String suffix) {
            boolean wild = suffixIsWild;
            for (byte b : path) wild |= b == '*' || b == '?' || b == '[';
            ByteArrayOutputStream o = new ByteArrayOutputStream(path.length + suffix.length() + 8);
            o.write('/');
            for (byte b : path) {
                if (wild && (b == '*' || b == '?' || b == '[' || b == '\\')) o.write('\\');
                o.write(b);
            }
            o.writeBytes(suffix.getBytes(StandardCharsets.US_ASCII));
            return o.toByteArray();
        }
    }

    /** Bytes as they are (filter rules, or a file list the caller formatted itself). */
    record Bytes(byte[] bytes) implements RsyncStdin {
        public Bytes {
            bytes = bytes.clone();
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            out.write(bytes);
        }
    }
}
