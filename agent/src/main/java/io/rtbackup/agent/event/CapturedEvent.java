package io.rtbackup.agent.event;

import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.fs.BytePaths;

/**
 * A change mapped onto a root: {@code path} is relative to it (empty = the root itself), {@code otherPath} is
 * the other name of a rename within the same root, or null. The publisher adds host id and sequence number.
 */
public record CapturedEvent(String rootId, byte[] path, FileOp op, boolean directory, byte[] otherPath,
        CaptureSource source, long timeNs, long inode) {

    public static final long NO_INODE = -1;

    @Override
    public String toString() {
        return op + " " + rootId + ":" + BytePaths.show(path) + (directory ? "/" : "")
                + (otherPath == null ? "" : " <-> " + BytePaths.show(otherPath)) + " [" + source + "]";
    }
}
