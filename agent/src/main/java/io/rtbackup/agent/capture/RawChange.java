package io.rtbackup.agent.capture;

import io.rtbackup.schema.FileOp;

/**
 * What a capture source saw, with absolute byte paths (Linux names are bytes, not UTF-8: never turn them into
 * {@code String} or {@code java.nio.file.Path}, whose encoding depends on the locale and loses bytes).
 */
public sealed interface RawChange {

    /** Capture time, ns since the epoch. */
    long timeNs();

    /** A change to one path: create, modify, close-write, delete, attrib, mkdir, rmdir, link, symlink. */
    record PathChange(FileOp op, byte[] path, boolean directory, long timeNs, long inode) implements RawChange {
        public static final long NO_INODE = -1;
    }

    /** A rename with both names known (either may lie outside every root; the normaliser decides). */
    record Rename(byte[] from, byte[] to, boolean directory, long timeNs) implements RawChange {}

    /**
     * The source lost events. {@code scope} is the absolute path whose subtree is affected, or {@code null} when
     * every root is; downstream this becomes one {@code RESCAN} per affected root.
     */
    record Overflow(byte[] scope, long dropped, long timeNs) implements RawChange {}

    /** A request to scan a subtree, e.g. a directory that appeared before its watch was in place. */
    record Rescan(byte[] path, long timeNs) implements RawChange {}
}
