package io.rtbackup.agent.capture.fanotify;

import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.schema.FileOp;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Turns one decoded fanotify event into the {@link RawChange}s it stands for: its named file-id records resolved to
 * paths ({@link HandleResolver}), kept only under a root; a rename as one change when both names are known, or a
 * move from / to when one side lies outside every root; a create told apart from a symlink or an extra hard link;
 * a link count change with no name reported under a name the file keeps. Remembered directory paths that a
 * rename or removal makes stale are forgotten here. One thread only (the resolver's and the stat buffer's).
 */
final class FanotifyEventTranslator {
    private static final long NO_INODE = RawChange.PathChange.NO_INODE;

    private final HandleResolver resolver;
    private final RootPaths roots;
    private final Consumer<RawChange> deliver;
    private final AtomicLong unresolved;
    private final FanotifyLib.StatBuf stat = new FanotifyLib.StatBuf();

    /**
     * @param deliver    where changes go (a sink that turns a rejected change into a rescan)
     * @param unresolved counts events whose directory was already gone (ESTALE)
     */
    FanotifyEventTranslator(HandleResolver resolver, RootPaths roots, Consumer<RawChange> deliver,
            AtomicLong unresolved) {
        this.resolver = resolver;
        this.roots = roots;
        this.deliver = deliver;
        this.unresolved = unresolved;
    }

    /** Delivers what {@code event}, read at {@code now}, says changed under a root; nothing for other paths. */
    void translate(FanotifyRecord.Event event, long now) {
        long mask = event.mask();
        byte[] path = null;
        byte[] oldPath = null;
        byte[] newPath = null;
        boolean unresolvable = false;
        FanotifyRecord.Fid self = null;
        for (FanotifyRecord.Info info : event.infos()) {
            if (!(info instanceof FanotifyRecord.Fid fid)) continue;
            // The file's own id: used only when no record names an entry (see fileLostOrGainedAName)
            if (fid.type() == FanotifyRecord.FidType.FID) self = fid;
            // DFID records name no entry: not used
            if (!fid.type().named()) continue;
            byte[] p = resolver.resolve(fid);
            if (p == null) {
                unresolvable = true;
            } else if (fid.type() == FanotifyRecord.FidType.OLD_DFID_NAME) {
                oldPath = p;
            } else if (fid.type() == FanotifyRecord.FidType.NEW_DFID_NAME) {
                newPath = p;
            } else {
                path = p;
            }
        }
        boolean dir = (mask & FanotifyLib.FAN_ONDIR) != 0;
        if ((mask & FanotifyLib.FAN_RENAME) != 0) {
            if (dir) {
                if (oldPath != null) resolver.invalidate(oldPath);
                if (newPath != null) resolver.invalidate(newPath);
            }
            boolean oldIn = oldPath != null && roots.contains(oldPath);
            boolean newIn = newPath != null && roots.contains(newPath);
            if (oldPath != null && newPath != null && (oldIn || newIn)) {
                deliver(new RawChange.Rename(oldPath, newPath, dir, now));
            } else if (oldIn) {
                deliver(new RawChange.PathChange(FileOp.MOVE_FROM, oldPath, dir, now, NO_INODE));
            } else if (newIn) {
                deliver(new RawChange.PathChange(FileOp.MOVE_TO, newPath, dir, now, NO_INODE));
            }
            if (unresolvable && oldPath == null && newPath == null) unresolved.incrementAndGet();
            return;
        }
        if (path == null) {
            if (!unresolvable && !dir && self != null && (mask & FanotifyLib.FAN_ATTRIB) != 0) {
                fileLostOrGainedAName(self, now);
                return;
            }
            // no name record: the directory is already deleted, and its own removal event covers what
            // happened inside
            if (unresolvable) unresolved.incrementAndGet();
            return;
        }
        if (dir && (mask & (FanotifyLib.FAN_DELETE | FanotifyLib.FAN_MOVED_FROM)) != 0) {
            resolver.invalidate(path);
        }
        if (!roots.contains(path)) return;
        if ((mask & FanotifyLib.FAN_CREATE) != 0) {
            deliver(created(path, dir, now));
        }
        if ((mask & FanotifyLib.FAN_MOVED_TO) != 0) {
            deliver(new RawChange.PathChange(FileOp.MOVE_TO, path, dir, now, NO_INODE));
        }
        if ((mask & FanotifyLib.FAN_MODIFY) != 0) {
            deliver(new RawChange.PathChange(FileOp.MODIFY, path, dir, now, NO_INODE));
        }
        if ((mask & FanotifyLib.FAN_ATTRIB) != 0) {
            deliver(new RawChange.PathChange(FileOp.ATTRIB, path, dir, now, NO_INODE));
        }
        if ((mask & FanotifyLib.FAN_CLOSE_WRITE) != 0) {
            deliver(new RawChange.PathChange(FileOp.CLOSE_WRITE, path, dir, now, NO_INODE));
        }
        if ((mask & FanotifyLib.FAN_MOVED_FROM) != 0) {
            deliver(new RawChange.PathChange(FileOp.MOVE_FROM, path, dir, now, NO_INODE));
        }
        if ((mask & FanotifyLib.FAN_DELETE) != 0) {
            deliver(new RawChange.PathChange(dir ? FileOp.RMDIR : FileOp.DELETE, path, dir, now, NO_INODE));
        }
    }

    /**
     * The attrib without a name that comes with a link count change (link, unlink, rename over a name): the
     * file has other names. A change written through a name that is then removed was reported under that name
     * only, and the removed name's sync finds nothing to send, so the names the file keeps would stay stale in
     * the replica (issue 15). Reported as an attrib of a name the file has now, whose sync reaches every name
     * (the agent's validator widens a run to all of a multi-link file's names). A file that is gone (its last
     * name removed) needs nothing: that removal was reported by name.
     */
    private void fileLostOrGainedAName(FanotifyRecord.Fid self, long now) {
        byte[] kept = resolver.resolveFile(self, roots::contains);
        if (kept != null && roots.contains(kept)) {
            deliver(new RawChange.PathChange(FileOp.ATTRIB, kept, false, now, NO_INODE));
        }
    }

    /** A new directory entry: tell symlinks and extra hard links apart from plain creates. */
    private RawChange created(byte[] path, boolean dir, long now) {
        if (dir) return new RawChange.PathChange(FileOp.MKDIR, path, true, now, NO_INODE);
        if (!stat.lstat(FanotifyLib.cstr(path))) {
            return new RawChange.PathChange(FileOp.CREATE, path, false, now, NO_INODE);
        }
        int type = stat.mode() & FanotifyLib.S_IFMT;
        FileOp op = type == FanotifyLib.S_IFLNK ? FileOp.SYMLINK
                : type != FanotifyLib.S_IFDIR && stat.nlink() > 1 ? FileOp.LINK : FileOp.CREATE;
        return new RawChange.PathChange(op, path, false, now, stat.ino());
    }

    private void deliver(RawChange change) {
        deliver.accept(change);
    }
}
