package io.rtbackup.agent.rsync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A temporary rule file that keeps exact source-relative paths out of a run: one anchored exclude rule per path,
 * NUL-terminated ({@code --from0}), read by rsync through {@code --exclude-from}. A file and not arguments, because
 * names are bytes (newlines, 0x80-0xFF) that the JVM's locale would mangle on a command line, and not stdin, which
 * carries the run's file list. An excluded entry is also protected from {@code --delete} on the receiver, so the
 * replica keeps its copy of a path the sender could not read. A name without {@code *?[} is compared literally by
 * rsync; in one with them, those characters are written as the classes {@code [*]}, {@code [?]}, {@code [[]} and a
 * backslash as {@code \\}, so the pattern still matches that one name only.
 *
 * <p>The rules go first in the run's arguments: rsync takes the first rule that matches, and a run's own include
 * rules (the deletion pass's) must not win over them. {@link #close()} deletes the file.
 */
public final class RsyncExclusionFile implements AutoCloseable {
    private final Path file;

    private RsyncExclusionFile(Path file) {
        this.file = file;
    }

    /** Writes the rules for {@code paths} (root-relative, non-empty) into a new file only this user can read. */
    public static RsyncExclusionFile write(Collection<byte[]> paths) throws IOException {
        Path f = Files.createTempFile("rtb-exclude-", ".rules",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(f, rules(paths));
        } catch (IOException e) {
            Files.deleteIfExists(f);
            throw e;
        }
        return new RsyncExclusionFile(f);
    }

    /** The rule file's bytes: {@code /<path>} and a NUL per path. */
    static byte[] rules(Collection<byte[]> paths) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : paths) {
            if (p.length == 0) throw new IllegalArgumentException("cannot exclude the transfer root itself");
            boolean wild = false;
            for (byte b : p) wild |= b == '*' || b == '?' || b == '[';
            out.write('/');
            for (byte b : p) {
                if (wild && (b == '*' || b == '?' || b == '[')) {
                    out.write('[');
                    out.write(b);
                    out.write(']');
                } else if (wild && b == '\\') {
                    out.write('\\');
                    out.write('\\');
                } else {
                    out.write(b);
                }
            }
            out.write(0);
        }
        return out.toByteArray();
    }

    /**
     * {@code args} (binary first) with {@code --from0 --exclude-from=<file>} right after the binary. {@code --from0}
     * also applies to a {@code --files-from} or {@code --include-from} list the run reads, which the agent always
     * writes NUL-separated anyway.
     */
    public List<String> prepend(List<String> args) {
        List<String> out = new ArrayList<>(args.size() + 2);
        out.add(args.get(0));
        out.add("--from0");
        out.add("--exclude-from=" + file);
        out.addAll(args.subList(1, args.size()));
        return List.copyOf(out);
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
