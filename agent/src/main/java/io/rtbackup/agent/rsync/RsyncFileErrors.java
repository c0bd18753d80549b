package io.rtbackup.agent.rsync;

import io.rtbackup.fs.BytePaths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What rsync's stderr says about single files in a push (this host sends, the destination receives), sorted by the
 * end they are about. Read line by line, in the formats of Debian's rsync 3.2.7 in the C locale (names escaped as
 * {@link RsyncNames} says, so one message is one line):
 * <ul>
 *   <li>{@code rsync: [sender] <what> "<source>/<path>"<rest>}: the source. {@code No such file or directory (2)} or
 *       {@code Not a directory (20)} is a path that is gone ({@link Kind#SOURCE_VANISHED}); anything else
 *       ({@code Permission denied (13)}, an I/O error) one the sender cannot read ({@link Kind#SOURCE_UNREADABLE}).
 *       The path runs to the line's last double quote: rsync does not escape quotes in names.</li>
 *   <li>{@code file has vanished: "<source>/<path>"}: gone between listing and sending.</li>
 *   <li>{@code rsync: [receiver] ...} and {@code rsync: [generator] ...}: the destination (both run there in a
 *       push): a failed mkstemp, mkdir, rename, set times, delete.</li>
 *   <li>{@code rsync error: ...}, {@code rsync warning: ...} (the summary with the exit code) and
 *       {@code *** Skipping any contents from this failed directory ***} (after a failed mkdir): nothing new.</li>
 *   <li>Every other line ({@code could not make way for ...}, a broken connection, a sender line about a path
 *       outside the source) is {@link Kind#UNKNOWN}, as is a stderr cut off at the launcher's limit: callers treat
 *       it like the destination's failure, never as a reason to call the run done.</li>
 * </ul>
 */
public record RsyncFileErrors(List<FileError> errors) {
    static final String TRUNCATED = "rsync's error output was longer than the agent keeps; not all of it was read";

    /** Which end a message is about. */
    public enum Kind {
        SOURCE_VANISHED, SOURCE_UNREADABLE, DESTINATION, UNKNOWN
    }

    /**
     * One message. {@code path}: source-relative bytes for the source kinds, empty otherwise; {@code reason}: what
     * rsync said without the path, e.g. {@code send_files failed to open: Permission denied (13)}.
     */
    public record FileError(Kind kind, byte[] path, String reason) {
        public FileError {
            path = path.clone();
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileError f && f.kind == kind && Arrays.equals(f.path, path) && f.reason.equals(reason);
        }

        @Override
        public int hashCode() {
            return kind.hashCode() * 31 + Arrays.hashCode(path);
        }

        @Override
        public String toString() {
            return kind + (path.length == 0 ? "" : " " + BytePaths.show(path)) + ": " + reason;
        }
    }

    private static final String SENDER = "rsync: [sender] ";
    private static final String RECEIVER = "rsync: [receiver] ";
    private static final String GENERATOR = "rsync: [generator] ";
    private static final String VANISHED = "file has vanished: \"";
    private static final String SKIPPING = "*** Skipping any contents from this failed directory ***";

    public RsyncFileErrors {
        errors = List.copyOf(errors);
    }

    /**
     * The messages of one push run.
     *
     * @param stderr     the run's stderr, one character per byte ({@link RsyncResult#stderr()})
     * @param complete   false when the launcher kept only the beginning of it
     * @param sourceRoot the source directory as the run named it (absolute, without the trailing slash)
     */
    public static RsyncFileErrors ofPush(String stderr, boolean complete, String sourceRoot) {
        String prefix = sourceRoot.endsWith("/") ? sourceRoot : sourceRoot + "/";
        List<FileError> out = new ArrayList<>();
        for (String line : stderr.split("\n", -1)) {
            if (line.isBlank()) continue;
            FileError e = classify(line, prefix);
            if (e != null) out.add(e);
        }
        if (!complete) out.add(new FileError(Kind.UNKNOWN, new byte[0], TRUNCATED));
        return new RsyncFileErrors(out);
    }

    private static FileError classify(String line, String prefix) {
        if (line.startsWith("rsync error: ") || line.startsWith("rsync warning: ") || line.equals(SKIPPING)) {
            return null;
        }
        if (line.startsWith(RECEIVER) || line.startsWith(GENERATOR)) {
            return new FileError(Kind.DESTINATION, new byte[0], line.substring("rsync: ".length()));
        }
        if (line.startsWith(VANISHED) && line.endsWith("\"")) {
            byte[] path = relative(line.substring(VANISHED.length(), line.length() - 1), prefix);
            return path == null ? unknown(line) : new FileError(Kind.SOURCE_VANISHED, path, "file has vanished");
        }
        if (line.startsWith(SENDER)) {
            String rest = line.substring(SENDER.length());
            int open = rest.indexOf('"');
            int close = rest.lastIndexOf('"');
            if (open < 0 || close <= open) return unknown(line);
            byte[] path = relative(rest.substring(open + 1, close), prefix);
            if (path == null) return unknown(line);
            String reason = (rest.substring(0, open).strip() + rest.substring(close + 1)).strip();
            boolean gone = reason.endsWith("No such file or directory (2)") || reason.endsWith("Not a directory (20)");
            return new FileError(gone ? Kind.SOURCE_VANISHED : Kind.SOURCE_UNREADABLE, path, reason);
        }
        return unknown(line);
    }

    private static FileError unknown(String line) {
        return new FileError(Kind.UNKNOWN, new byte[0], line);
    }

    /**
     * The bytes of {@code printed} below {@code prefix}, or null when it is not strictly below it (the source
     * itself, printed as {@code <source>/.}, is no path that can be left out).
     */
    private static byte[] relative(String printed, String prefix) {
        if (!printed.startsWith(prefix)) return null;
        String rest = printed.substring(prefix.length());
        if (rest.isEmpty() || rest.equals(".")) return null;
        return RsyncNames.unescape(rest);
    }

    /** Some message is about the destination, or could not be placed: the run did not do its part there. */
    public boolean destinationOrUnknown() {
        return errors.stream().anyMatch(e -> e.kind() == Kind.DESTINATION || e.kind() == Kind.UNKNOWN);
    }

    /** The source paths the sender could not read, in the order rsync reported them. */
    public List<FileError> unreadable() {
        return errors.stream().filter(e -> e.kind() == Kind.SOURCE_UNREADABLE).toList();
    }

    /** The destination and unknown messages (what to tell the operator about a destination failure). */
    public List<FileError> destinationSide() {
        return errors.stream().filter(e -> e.kind() == Kind.DESTINATION || e.kind() == Kind.UNKNOWN).toList();
    }
}
