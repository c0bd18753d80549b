package io.rtbackup.fs;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.Arrays;

/**
 * Thin binding to glibc on x86_64 Linux. Paths are {@code byte[]} without the trailing NUL (it is added here) so
 * that names the JVM's locale cannot encode pass through unchanged. Every wrapper checks the return value and
 * throws {@link ErrnoException} naming the call and the path; calls interrupted by a signal (EINTR) are retried
 * where that is safe.
 *
 * <p>Uses JNA direct mapping (static natives registered once) because the tree walk issues one call per entry
 * and the interface proxy would add reflection to each.
 */
public final class Posix {

    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;

    public static final long UTIME_NOW = (1L << 30) - 1;
    public static final long UTIME_OMIT = (1L << 30) - 2;

    public static final short POLLIN = 0x1;
    public static final short POLLPRI = 0x2;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;

    public static final long FIONREAD = 0x541B;

    /** getdents64 d_type values. */
    public static final int DT_UNKNOWN = 0;
    public static final int DT_DIR = 4;
    public static final int DT_REG = 8;
    public static final int DT_LNK = 10;

    /** sizeof(struct stat) on x86_64, in longs (144 bytes). */
    private static final int STAT_LONGS = 18;

    private Posix() {
    }

    /** The raw libc symbols. Package-private: callers go through the checked wrappers. */
    static final class Native0 {
        static {
            Native.register(Native0.class, NativeLibrary.getInstance("c"));
        }

        private Native0() {
        }

        static native int openat(int dirfd, byte[] path, int flags, int mode);

        static native int close(int fd);

        static native long read(int fd, byte[] buf, long count);

        static native long read(int fd, Pointer buf, long count);

        static native long write(int fd, byte[] buf, long count);

        static native long pread(int fd, byte[] buf, long count, long offset);

        static native long pwrite(int fd, byte[] buf, long count, long offset);

        static native int ftruncate(int fd, long length);


        static native int mkdirat(int dirfd, byte[] path, int mode);

        static native int unlinkat(int dirfd, byte[] path, int flags);


        static native int symlinkat(byte[] target, int newdirfd, byte[] linkpath);

        static native int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

        static native long readlinkat(int dirfd, byte[] path, byte[] buf, long bufsiz);

        static native int fchmodat(int dirfd, byte[] path, int mode, int flags);

        static native int fchownat(int dirfd, byte[] path, int owner, int group, int flags);

        static native int utimensat(int dirfd, byte[] path, long[] times, int flags);

        // newfstatat, getdents64 and renameat2 go through syscall(2): glibc only exports wrappers for them
        // since 2.33, 2.30 and 2.28, and the agent may run on older distributions than this build host
        static native long syscall(long number, int dirfd, byte[] path, long[] statbuf, int flags);

        static native long syscall(long number, int fd, Pointer dirp, long count);

        static native long syscall(long number, int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

        static native int poll(int[] fds, long nfds, int timeout);

        static native int ioctl(int fd, long request, long arg);

        static native int ioctl(int fd, long request, byte[] arg);

        static native int ioctl(int fd, long request, int[] arg);

        static native int fsync(int fd);

        static native int geteuid();

        static native int getegid();
    }

    /** x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
    private static final long SYS_GETDENTS64 = 217;
    private static final long SYS_NEWFSTATAT = 262;
    private static final long SYS_RENAMEAT2 = 316;

    private static int errno() {
        return Native.getLastError();
    }

    /** NUL-terminated copy; a NUL inside a path cannot be passed to the kernel, so it is EINVAL like the kernel's. */
    static byte[] cstr(String call, byte[] path) throws ErrnoException {
        for (byte b : path) {
            if (b == 0) {
                throw new ErrnoException(call, Errno.EINVAL, path);
            }
        }
        return Arrays.copyOf(path, path.length + 1);
    }

    // ---- file descriptors -------------------------------------------------------------------------------------

    /** openat(2); returns the new fd. {@code mode} only matters with O_CREAT. */
    public static int openat(int dirfd, byte[] path, int flags, int mode) throws ErrnoException {
        byte[] c = cstr("openat", path);
        while (true) {
            int fd = Native0.openat(dirfd, c, flags, mode);
            if (fd >= 0) {
                return fd;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("openat", e, path);
            }
        }
    }

    /** close(2). EINTR is not retried: on Linux the fd is released anyway and retrying could close a reused fd. */
    public static void close(int fd) throws ErrnoException {
        if (Native0.close(fd) != 0) {
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("close", e, null);
            }
        }
    }

    /** close(2) for cleanup paths where a failure must not hide the original exception. */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            Native0.close(fd);
        }
    }

    /** read(2) into {@code buf[off, off+len)}; returns the byte count, 0 at end of file. */
    public static int read(int fd, byte[] buf, int off, int len) throws ErrnoException {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        byte[] target = off == 0 ? buf : new byte[len];
        while (true) {
            long n = Native0.read(fd, target, len);
            if (n >= 0) {
                if (target != buf) {
                    System.arraycopy(target, 0, buf, off, (int) n);
                }
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("read", e, null);
            }
        }
    }

    /** read(2) into native memory; returns the byte count, 0 at end of file. */
    public static int read(int fd, Pointer buf, int len) throws ErrnoException {
        while (true) {
            long n = Native0.read(fd, buf, len);
            if (n >= 0) {
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("read", e, null);
            }
        }
    }

    /** write(2) of {@code buf[off, off+len)}; returns the byte count written (may be short). */
    public static int write(int fd, byte[] buf, int off, int len) throws ErrnoException {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        byte[] source = off == 0 ? buf : Arrays.copyOfRange(buf, off, off + len);
        while (true) {
            long n = Native0.write(fd, source, len);
            if (n >= 0) {
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("write", e, null);
            }
        }
    }

    /** pread(2) into {@code buf[off, off+len)} from file position {@code position}. */
    public static int pread(int fd, byte[] buf, int off, int len, long position) throws ErrnoException {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        byte[] target = off == 0 ? buf : new byte[len];
        while (true) {
            long n = Native0.pread(fd, target, len, position);
            if (n >= 0) {
                if (target != buf) {
                    System.arraycopy(target, 0, buf, off, (int) n);
                }
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("pread", e, null);
            }
        }
    }

    /** pwrite(2) of {@code buf[off, off+len)} at file position {@code position}. */
    public static int pwrite(int fd, byte[] buf, int off, int len, long position) throws ErrnoException {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        byte[] source = off == 0 ? buf : Arrays.copyOfRange(buf, off, off + len);
        while (true) {
            long n = Native0.pwrite(fd, source, len, position);
            if (n >= 0) {
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("pwrite", e, null);
            }
        }
    }

    public static void ftruncate(int fd, long length) throws ErrnoException {
        while (Native0.ftruncate(fd, length) != 0) {
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("ftruncate", e, null);
            }
        }
    }

    public static void fsync(int fd) throws ErrnoException {
        while (Native0.fsync(fd) != 0) {
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("fsync", e, null);
            }
        }
    }

    // ---- metadata ---------------------------------------------------------------------------------------------

    /** fstatat(2); pass {@link #AT_SYMLINK_NOFOLLOW} for lstat semantics. */
    public static Stat fstatat(int dirfd, byte[] path, int flags) throws ErrnoException {
        byte[] c = cstr("fstatat", path);
        long[] st = new long[STAT_LONGS];
        if (Native0.syscall(SYS_NEWFSTATAT, dirfd, c, st, flags) != 0) {
            throw new ErrnoException("fstatat", errno(), path);
        }
        return decodeStat(st);
    }

    /** fstat(2) of an open fd (fstatat with AT_EMPTY_PATH). */
    public static Stat fstat(int fd) throws ErrnoException {
        long[] st = new long[STAT_LONGS];
        if (Native0.syscall(SYS_NEWFSTATAT, fd, new byte[1], st, AT_EMPTY_PATH) != 0) {
            throw new ErrnoException("fstat", errno(), null);
        }
        return decodeStat(st);
    }

    /**
     * struct stat on x86_64 (asm/stat.h): dev@0, ino@8, nlink@16 (8 bytes each), mode@24, uid@28, gid@32 (4 each),
     * pad@36, rdev@40, size@48, blksize@56, blocks@64, atim@72, mtim@88, ctim@104 (timespecs), 144 bytes in all.
     * Read as little-endian longs, so the two 4-byte fields sharing a long are its low and high halves.
     */
    static Stat decodeStat(long[] st) {
        int mode = (int) st[3];
        int uid = (int) (st[3] >>> 32);
        int gid = (int) st[4];
        long mtimeNs = Math.multiplyExact(st[11], 1_000_000_000L) + st[12];
        return new Stat(mode, st[6], mtimeNs, st[1], st[0], st[2], uid, gid);
    }

    public static void fchmodat(int dirfd, byte[] path, int mode, int flags) throws ErrnoException {
        if (Native0.fchmodat(dirfd, cstr("fchmodat", path), mode, flags) != 0) {
            throw new ErrnoException("fchmodat", errno(), path);
        }
    }

    public static void fchownat(int dirfd, byte[] path, int uid, int gid, int flags) throws ErrnoException {
        if (Native0.fchownat(dirfd, cstr("fchownat", path), uid, gid, flags) != 0) {
            throw new ErrnoException("fchownat", errno(), path);
        }
    }

    /**
     * utimensat(2). Each time is seconds plus nanoseconds; a nanosecond value of {@link #UTIME_OMIT} leaves that
     * time unchanged, {@link #UTIME_NOW} sets it to the current time.
     */
    public static void utimensat(int dirfd, byte[] path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec,
                                 int flags) throws ErrnoException {
        long[] times = {atimeSec, atimeNsec, mtimeSec, mtimeNsec};
        if (Native0.utimensat(dirfd, cstr("utimensat", path), times, flags) != 0) {
            throw new ErrnoException("utimensat", errno(), path);
        }
    }

    // ---- names ------------------------------------------------------------------------------------------------

    public static void mkdirat(int dirfd, byte[] path, int mode) throws ErrnoException {
        if (Native0.mkdirat(dirfd, cstr("mkdirat", path), mode) != 0) {
            throw new ErrnoException("mkdirat", errno(), path);
        }
    }

    /** unlinkat(2); pass {@link #AT_REMOVEDIR} to remove an empty directory. */
    public static void unlinkat(int dirfd, byte[] path, int flags) throws ErrnoException {
        if (Native0.unlinkat(dirfd, cstr("unlinkat", path), flags) != 0) {
            throw new ErrnoException("unlinkat", errno(), path);
        }
    }

    /** renameat2(2); flags 0 is plain rename(2), see {@link #RENAME_NOREPLACE} and {@link #RENAME_EXCHANGE}. */
    public static void renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
            throws ErrnoException {
        if (Native0.syscall(SYS_RENAMEAT2, olddirfd, cstr("renameat2", oldpath), newdirfd, cstr("renameat2", newpath),
                flags) != 0) {
            throw new ErrnoException("renameat2", errno(), oldpath, newpath);
        }
    }

    /** symlinkat(2): creates {@code linkpath} pointing at {@code target} (target is not resolved). */
    public static void symlinkat(byte[] target, int newdirfd, byte[] linkpath) throws ErrnoException {
        if (Native0.symlinkat(cstr("symlinkat", target), newdirfd, cstr("symlinkat", linkpath)) != 0) {
            throw new ErrnoException("symlinkat", errno(), linkpath, target);
        }
    }

    public static void linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
            throws ErrnoException {
        if (Native0.linkat(olddirfd, cstr("linkat", oldpath), newdirfd, cstr("linkat", newpath), flags) != 0) {
            throw new ErrnoException("linkat", errno(), oldpath, newpath);
        }
    }

    /** readlinkat(2): the symlink's target bytes, whatever their length. */
    public static byte[] readlinkat(int dirfd, byte[] path) throws ErrnoException {
        byte[] c = cstr("readlinkat", path);
        int size = 256;
        while (true) {
            byte[] buf = new byte[size];
            long n = Native0.readlinkat(dirfd, c, buf, size);
            if (n < 0) {
                throw new ErrnoException("readlinkat", errno(), path);
            }
            if (n < size) {
                return Arrays.copyOf(buf, (int) n);
            }
            // the target may have been truncated to fit: retry with more room
            size *= 4;
        }
    }

    /**
     * getdents64(2) into {@code buf}: returns the number of bytes filled with {@code struct linux_dirent64}
     * records (d_ino u64 @0, d_off s64 @8, d_reclen u16 @16, d_type u8 @18, d_name NUL-terminated @19), 0 at the
     * end of the directory.
     */
    public static int getdents64(int fd, Pointer buf, int size) throws ErrnoException {
        while (true) {
            long n = Native0.syscall(SYS_GETDENTS64, fd, buf, size);
            if (n >= 0) {
                return (int) n;
            }
            int e = errno();
            if (e != Errno.EINTR) {
                throw new ErrnoException("getdents64", e, null);
            }
        }
    }

    // ---- waiting and devices ----------------------------------------------------------------------------------

    /**
     * poll(2) on {@code fds} for {@code events[i]}; fills {@code revents[i]} and returns how many fds are ready
     * (0 on timeout or when a signal interrupted the wait; callers loop anyway). Negative timeout waits forever.
     */
    public static int poll(int[] fds, short[] events, short[] revents, int timeoutMs) throws ErrnoException {
        if (fds.length != events.length || fds.length != revents.length) {
            throw new IllegalArgumentException("poll: fds, events and revents differ in length");
        }
        // struct pollfd { int fd; short events; short revents; }: little-endian, events in the low half
        int[] pfds = new int[fds.length * 2];
        for (int i = 0; i < fds.length; i++) {
            pfds[2 * i] = fds[i];
            pfds[2 * i + 1] = events[i] & 0xFFFF;
        }
        int n = Native0.poll(pfds, fds.length, timeoutMs);
        if (n < 0) {
            int e = errno();
            if (e == Errno.EINTR) {
                Arrays.fill(revents, (short) 0);
                return 0;
            }
            throw new ErrnoException("poll", e, null);
        }
        for (int i = 0; i < fds.length; i++) {
            revents[i] = (short) (pfds[2 * i + 1] >>> 16);
        }
        return n;
    }

    /** poll(2) on one fd: the returned events, 0 on timeout. */
    public static short poll(int fd, short events, int timeoutMs) throws ErrnoException {
        short[] revents = new short[1];
        poll(new int[] {fd}, new short[] {events}, revents, timeoutMs);
        return revents[0];
    }

    /** ioctl(2) with an integer argument; returns the call's non-negative result. */
    public static int ioctl(int fd, long request, long arg) throws ErrnoException {
        int r = Native0.ioctl(fd, request, arg);
        if (r < 0) {
            throw new ErrnoException("ioctl(0x" + Long.toHexString(request) + ")", errno(), null);
        }
        return r;
    }

    /** ioctl(2) with a pointer to {@code arg}, which the kernel may read and fill. */
    public static int ioctl(int fd, long request, byte[] arg) throws ErrnoException {
        int r = Native0.ioctl(fd, request, arg);
        if (r < 0) {
            throw new ErrnoException("ioctl(0x" + Long.toHexString(request) + ")", errno(), null);
        }
        return r;
    }

    /** ioctl(2) whose argument is a pointer to one int, e.g. FIONREAD; returns that int. */
    public static int ioctlInt(int fd, long request) throws ErrnoException {
        int[] value = new int[1];
        if (Native0.ioctl(fd, request, value) < 0) {
            throw new ErrnoException("ioctl(0x" + Long.toHexString(request) + ")", errno(), null);
        }
        return value[0];
    }

    public static int geteuid() {
        return Native0.geteuid();
    }

    public static int getegid() {
        return Native0.getegid();
    }
}
