package io.rtbackup.agent.capture.fanotify;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a named file id record into an absolute path: the directory handle to its path, remembered in a
 * {@link DirCache} or found with {@code open_by_handle_at} on the mount fd of the handle's filesystem and a
 * {@code readlink} of {@code /proc/self/fd}, then joined with the record's name. Handles on a filesystem no
 * root lives on, and directories already gone, resolve to null. The caller invalidates paths whose directories
 * moved or went away. One thread only: the native buffers are reused.
 */
final class HandleResolver {
    private static final Logger log = LoggerFactory.getLogger(HandleResolver.class);

    private final Map<Long, Integer> mountFds;
    private final DirCache cache;
    private final Runnable lost;
    private final Memory handle = new Memory(8 + FanotifyRecordDecoder.MAX_HANDLE_BYTES);
    private final byte[] link = new byte[8192];
    private final FanotifyLib.StatBuf stat = new FanotifyLib.StatBuf();

    /**
     * @param mountFds an open directory fd per watched filesystem, by fsid; read, never changed, here
     * @param lost     called when a directory may exist but its path could not be read (a failed open other than
     *     ESTALE, a failed readlink): the caller requests a rescan
     */
    HandleResolver(Map<Long, Integer> mountFds, int cacheCapacity, Runnable lost) {
        this.mountFds = mountFds;
        this.cache = new DirCache(cacheCapacity);
        this.lost = lost;
    }

    /** Absolute path of the record's directory joined with its name, or null when the directory is gone. */
    byte[] resolve(FanotifyRecord.Fid fid) {
        FanotifyRecord.FileHandle fh = fid.handle();
        byte[] dir = cache.get(fh);
        if (dir == null) {
            dir = openByHandle(fh);
            if (dir == null) return null;
            cache.put(fh, dir);
        }
        byte[] name = fid.rawName();
        if (name.length == 0 || (name.length == 1 && name[0] == '.')) return dir;
        boolean slash = dir.length == 1; // the directory is "/"
        byte[] out = new byte[dir.length + (slash ? 0 : 1) + name.length];
        System.arraycopy(dir, 0, out, 0, dir.length);
        if (!slash) out[dir.length] = '/';
        System.arraycopy(name, 0, out, out.length - name.length, name.length);
        return out;
    }

    /** Tries of {@link #resolveFile} before it gives up and requests a rescan, with a doubling pause from 1 ms. */
    static final int FILE_TRIES = 5;

    /** What one try of {@link #resolveFile} found. */
    private enum Found { PATH, GONE, RETRY }

    /**
     * The path of a file from its own id record (no name): a name the file has now, or null when the file is gone
     * (its last name removed), lies on a filesystem no root is on, or is a directory. Never cached: a file's names
     * change without directory events telling this cache. Two answers are passing states, tried again a few times:
     * ENOMEM (seen twice per ClusterFailoverTest run; by reading, ext4's iget finding the inode mid-teardown, so
     * the file is gone and a later try says ESTALE), and a path that does not lead to the file (a name removed
     * meanwhile reads as "... (deleted)" while something still holds it). When they persist, {@code lost} is told,
     * which rescans, unless the last path read lies outside every root ({@code ours} says no): that name was not
     * ours, and a file whose names cross a root's boundary is not replicated through its outside names anyway (their
     * writes are not reported either), so such a rescan, which other activity on the disk would trigger, buys nothing.
     */
    byte[] resolveFile(FanotifyRecord.Fid fid, Predicate<byte[]> ours) {
        FanotifyRecord.FileHandle fh = fid.handle();
        Integer mountFd = mountFds.get(fh.fsid());
        if (mountFd == null) return null;
        String why = null;
        byte[][] path = new byte[1][];
        for (int attempt = 0; attempt < FILE_TRIES; attempt++) {
            if (attempt > 0) pause(1L << (attempt - 1));
            path[0] = null;
            int[] errno = new int[1];
            Found f = tryResolveFile(mountFd, fh, path, errno);
            if (f == Found.PATH) return path[0];
            if (f == Found.GONE) return null;
            // not ours (see above): decided now, without the pauses, which would hold capture for other processes
            if (path[0] != null && !ours.test(withoutDeletedSuffix(path[0]))) return null;
            why = errno[0] != 0 ? "open_by_handle_at failed with errno " + errno[0] : "no path leads to it";
        }
        log.warn("a file that lost or gained a name could not be placed after {} tries ({}, last path read: {}); "
                + "requesting a rescan", FILE_TRIES, why, path[0] == null ? "none" : BytePaths.show(path[0]));
        lost.run();
        return null;
    }

    private static byte[] withoutDeletedSuffix(byte[] path) {
        byte[] suffix = " (deleted)".getBytes(StandardCharsets.US_ASCII);
        int n = path.length - suffix.length;
        return n > 0 && Arrays.equals(path, n, path.length, suffix, 0, suffix.length) ? Arrays.copyOf(path, n) : path;
    }

    private Found tryResolveFile(int mountFd, FanotifyRecord.FileHandle fh, byte[][] out, int[] errnoOut) {
        int fd = open(mountFd, fh);
        if (fd < 0) {
            if (-fd == FanotifyLib.ESTALE) return Found.GONE; // its last name is gone, and that removal was reported
            errnoOut[0] = -fd;
            return Found.RETRY;
        }
        try {
            if (!stat.fstat(fd) || stat.nlink() == 0) return Found.GONE;
            if ((stat.mode() & FanotifyLib.S_IFMT) == FanotifyLib.S_IFDIR) return Found.GONE;
            long ino = stat.ino();
            byte[] path = pathOf(fd);
            // The path must lead to this very file (not so: a name removed meanwhile reads as "... (deleted)").
            if (path == null || path[0] != '/') return Found.RETRY;
            out[0] = path;
            if (!stat.lstat(FanotifyLib.cstr(path)) || stat.ino() != ino) return Found.RETRY;
            return Found.PATH;
        } finally {
            FanotifyLib.Direct.close(fd);
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Forgets {@code path} and every directory below it (renamed or removed). */
    void invalidate(byte[] path) {
        cache.invalidate(path);
    }

    /** Forgets everything (after lost events, when any remembered path may be stale). */
    void clear() {
        cache.clear();
    }

    private byte[] openByHandle(FanotifyRecord.FileHandle fh) {
        Integer mountFd = mountFds.get(fh.fsid());
        if (mountFd == null) return null; // another filesystem than any root's: not ours
        int dfd = open(mountFd, fh);
        if (dfd < 0) {
            if (-dfd == FanotifyLib.ESTALE) return null; // the directory is gone, and its removal was reported
            // EMFILE, ENOMEM, EACCES...: the directory may well exist, so the event is unplaced, not moot
            log.warn("open_by_handle_at of a directory handle failed with errno {}; an event could not be placed, "
                    + "requesting a rescan", -dfd);
            lost.run();
            return null;
        }
        try {
            if (stat.fstat(dfd) && stat.nlink() == 0) return null; // removed while we held its handle
            byte[] path = pathOf(dfd);
            if (path == null) {
                log.warn("readlink of a directory handle failed (errno {}); requesting a rescan",
                        Native.getLastError());
                lost.run();
            }
            return path;
        } finally {
            FanotifyLib.Direct.close(dfd);
        }
    }

    /** {@code open_by_handle_at} of {@code fh} on {@code mountFd}, {@code O_PATH}: the fd, or minus the errno. */
    private int open(int mountFd, FanotifyRecord.FileHandle fh) {
        byte[] bytes = fh.raw();
        // struct file_handle: handle_bytes, handle_type, then the bytes (host order, as JNA writes)
        handle.setInt(0, bytes.length);
        handle.setInt(4, fh.handleType());
        handle.write(8, bytes, 0, bytes.length);
        int fd = FanotifyLib.Direct.open_by_handle_at(mountFd, handle, FanotifyLib.O_PATH | FanotifyLib.O_CLOEXEC);
        return fd >= 0 ? fd : -Native.getLastError();
    }

    /** The path the kernel shows for {@code fd} ({@code /proc/self/fd}), or null when it cannot be read whole. */
    private byte[] pathOf(int fd) {
        byte[] fdPath = ("/proc/self/fd/" + fd + "\0").getBytes(StandardCharsets.US_ASCII);
        long n = FanotifyLib.Direct.readlink(fdPath, link, link.length);
        return n > 0 && n < link.length ? Arrays.copyOf(link, (int) n) : null;
    }
}
