package io.rtbackup.agent.capture.fanotify;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Optional;

/**
 * The libc calls fanotify capture needs (x86_64 Linux), bound with JNA. Paths are NUL-terminated byte arrays;
 * errno is read with {@link Native#getLastError()} right after a failed call.
 */
public final class FanotifyLib {

    interface C extends Library {
        int fanotify_init(int flags, int eventFFlags);

        int fanotify_mark(int fd, int flags, long mask, int dirfd, byte[] pathname);

        long read(int fd, Pointer buf, long count);

        int close(int fd);

        int open(byte[] path, int flags);

        int open_by_handle_at(int mountFd, Pointer handle, int flags);

        long readlink(byte[] path, byte[] buf, long size);

        int fstatat(int dirfd, byte[] path, Pointer statbuf, int flags);

        int poll(Pointer fds, long nfds, int timeoutMs);

        int fstatfs(int fd, Pointer buf);
    }

    static final C C = Native.load("c", C.class);

    /**
     * The calls made per event or per read, bound by JNA's direct mapping: a native method each, without the
     * interface mapping's proxy, reflection and argument boxing, which cost more than the calls themselves at a
     * few hundred thousand events a second. errno is read the same way, with {@link Native#getLastError()}.
     */
    static final class Direct {
        static {
            Native.register(Direct.class, "c");
        }

        private Direct() {
        }

        static native long read(int fd, Pointer buf, long count);

        static native int close(int fd);

        static native int open_by_handle_at(int mountFd, Pointer handle, int flags);

        static native long readlink(byte[] path, byte[] buf, long size);

        static native int fstatat(int dirfd, byte[] path, Pointer statbuf, int flags);

        static native int poll(Pointer fds, long nfds, int timeoutMs);
    }

    // fanotify_init flags
    static final int FAN_CLOEXEC = 0x1;
    static final int FAN_NONBLOCK = 0x2;
    static final int FAN_CLASS_NOTIF = 0x0;
    static final int FAN_REPORT_DIR_FID = 0x400;
    static final int FAN_REPORT_NAME = 0x800;
    static final int FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;
    /** The file's own id as well: the only record of an event the kernel has no name for (a link count change). */
    static final int FAN_REPORT_FID = 0x200;

    // event bits
    static final long FAN_MODIFY = 0x2;
    static final long FAN_ATTRIB = 0x4;
    static final long FAN_CLOSE_WRITE = 0x8;
    static final long FAN_MOVED_FROM = 0x40;
    static final long FAN_MOVED_TO = 0x80;
    static final long FAN_CREATE = 0x100;
    static final long FAN_DELETE = 0x200;
    static final long FAN_Q_OVERFLOW = 0x4000;
    static final long FAN_RENAME = 0x10000000L;
    static final long FAN_ONDIR = 0x40000000L;

    // fanotify_mark flags
    static final int FAN_MARK_ADD = 0x1;
    static final int FAN_MARK_REMOVE = 0x2;
    static final int FAN_MARK_FILESYSTEM = 0x100;

    // info record types
    static final int INFO_FID = 1;
    static final int INFO_DFID_NAME = 2;
    static final int INFO_DFID = 3;
    static final int INFO_OLD_DFID_NAME = 10;
    static final int INFO_NEW_DFID_NAME = 12;

    static final int O_RDONLY = 0;
    static final int O_LARGEFILE = 0x8000;
    static final int O_DIRECTORY = 0x10000;
    static final int O_CLOEXEC = 0x80000;
    static final int O_PATH = 0x200000;
    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_EMPTY_PATH = 0x1000;
    static final short POLLIN = 0x1;

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EPERM = 1;
    static final int EINVAL = 22;
    static final int ESTALE = 116;

    // struct stat on x86_64
    static final int STAT_SIZE = 144;
    static final int ST_INO = 8;
    static final int ST_NLINK = 16;
    static final int ST_MODE = 24;
    static final int S_IFMT = 0170000;
    static final int S_IFLNK = 0120000;
    static final int S_IFDIR = 0040000;

    // struct statfs on x86_64: f_fsid (two ints) at offset 56
    static final int STATFS_SIZE = 120;
    static final int STATFS_FSID = 56;

    private FanotifyLib() {
    }

    static byte[] cstr(byte[] path) {
        byte[] c = new byte[path.length + 1];
        System.arraycopy(path, 0, c, 0, path.length);
        return c;
    }

    /** Empty when a fanotify group with directory-fid reporting can be created here, else the reason. */
    public static Optional<String> probe() {
        int fd = C.fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int errno = Native.getLastError();
            return Optional.of("fanotify_init failed with errno " + errno + (errno == EPERM
                    ? " (EPERM: CAP_SYS_ADMIN is required)"
                    : errno == EINVAL ? " (EINVAL: kernel older than 5.9 lacks FAN_REPORT_DFID_NAME)" : ""));
        }
        C.close(fd);
        return Optional.empty();
    }

    private static final byte[] EMPTY_CPATH = {0};

    /** One reusable struct stat buffer; not thread-safe. */
    static final class StatBuf {
        final Memory mem = new Memory(STAT_SIZE);

        /** lstat; false when the path is gone. */
        boolean lstat(byte[] cpath) {
            return Direct.fstatat(AT_FDCWD, cpath, mem, AT_SYMLINK_NOFOLLOW) == 0;
        }

        boolean fstat(int fd) {
            return Direct.fstatat(fd, EMPTY_CPATH, mem, AT_EMPTY_PATH) == 0;
        }

        int mode() {
            return mem.getInt(ST_MODE);
        }

        long nlink() {
            return mem.getLong(ST_NLINK);
        }

        long ino() {
            return mem.getLong(ST_INO);
        }
    }
}
