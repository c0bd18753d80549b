package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.rsync.RsyncExcludes;
import java.util.List;

/**
 * A validated command, ready for rsync: which root (absolute path, ASCII), which destination, the directory under
 * the destination the root lands in, what to copy, and the root's excludes (nothing they match leaves the host).
 */
public record ReplicationJob(
        String commandId,
        String hostId,
        String rootId,
        String rootPath,
        Destination destination,
        String remoteDir,
        Selection selection,
        RsyncExcludes excludes) {

    /** A job of a root without excludes. */
    public ReplicationJob(String commandId, String hostId, String rootId, String rootPath, Destination destination,
            String remoteDir, Selection selection) {
        this(commandId, hostId, rootId, rootPath, destination, remoteDir, selection, RsyncExcludes.NONE);
    }

    /** What to replicate. */
    public sealed interface Selection permits FullRoot, Paths {
    }

    /** The whole root, deleting extraneous files on the destination. */
    public record FullRoot() implements Selection {
    }

    /** Listed root-relative paths (each replicated recursively; a missing one is deleted on the destination). */
    public record Paths(List<ListedPath> paths) implements Selection {
        public Paths {
            paths = List.copyOf(paths);
        }
    }
}
