package io.rtbackup.agent.capture.kmod;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;

/**
 * {@code /dev/rtbackup} through libc (open, read, poll, ioctl, close). The ioctl numbers are those of
 * {@code kmod/rtbackup_uapi.h} ({@code _IOC(dir, 0xB8, nr, size)} on x86-64 and arm64).
 */
public final class KmodDevice implements AutoCloseable {
    public static final String DEFAULT_PATH = "/dev/rtbackup";
    public static final int UAPI_VERSION = 1;
    /** Enough for the largest record ({@code RTB_READ_MIN}); more lets one read return many. */
    public static final int READ_BUFFER_BYTES = 256 * 1024;

    static final long IOC_GET_VERSION = ioc(2, 0, 4);
    static final long IOC_ADD_ROOT = ioc(1, 1, 16);
    static final long IOC_CLEAR_ROOTS = ioc(0, 2, 0);
    static final long IOC_SET_MASK = ioc(1, 3, 4);
    static final long IOC_ENABLE = ioc(0, 4, 0);
    static final long IOC_DISABLE = ioc(0, 5, 0);
    static final long IOC_GET_COUNTERS = ioc(2, 6, 72);

    static final int ENOENT = 2, ENXIO = 6, EAGAIN = 11, EACCES = 13, EBUSY = 16, ENODEV = 19, EINTR = 4, EPERM = 1;
    private static final int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private static final short POLLIN = 1;

    private static long ioc(int dir, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | (0xB8L << 8) | nr;
    }

    /** The libc calls used here; each throws {@link LastErrorException} carrying errno on failure. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        NativeLong read(int fd, Pointer buf, NativeLong count) throws LastErrorException;

        int poll(Pointer fds, NativeLong nfds, int timeoutMs) throws LastErrorException;

        int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    /** The counters of {@code struct rtb_counters}. */
    public record Counters(long delivered, long dropped, long overflows, long filtered, long errors, long ringUsed,
                           long ringSize, boolean enabled, int roots, int marks, int mask) {}

    /** Opening failed; {@link #errno()} tells why (ENOENT: module not loaded, EBUSY: another reader). */
    public static final class OpenFailed extends IOException {
        private final int errno;

        OpenFailed(String path, int errno, String message) {
            super(path + ": " + message + " (errno " + errno + ")");
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private final String path;
    private final int fd;
    private final Memory readBuffer = new Memory(READ_BUFFER_BYTES);
    private final Memory arg = new Memory(128);
    private final Memory pollFd = new Memory(8);
    private volatile boolean closed;

    private KmodDevice(String path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static KmodDevice open(String path) throws OpenFailed {
        try {
            return new KmodDevice(path, Holder.LIBC.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            String why = switch (errno) {
                case ENOENT, ENODEV, ENXIO -> "device absent: the rtbackup kernel module is not loaded";
                case EBUSY -> "another process is reading the device (one reader at a time)";
                case EACCES, EPERM -> "permission denied: the device needs root (CAP_SYS_ADMIN)";
                default -> "cannot open";
            };
            throw new OpenFailed(path, errno, why);
        }
    }

    public String path() {
        return path;
    }

    public int version() throws IOException {
        ioctl(IOC_GET_VERSION, arg, "RTB_IOC_GET_VERSION");
        return arg.getInt(0);
    }

    /** Adds a root (an absolute directory; its whole file system gets watched and events are filtered). */
    public void addRoot(byte[] absolutePath) throws IOException {
        try (Memory p = new Memory(absolutePath.length + 1)) {
            p.write(0, absolutePath, 0, absolutePath.length);
            p.setByte(absolutePath.length, (byte) 0);
            arg.clear(16);
            arg.setLong(0, Pointer.nativeValue(p));
            arg.setInt(8, absolutePath.length);
            ioctl(IOC_ADD_ROOT, arg, "RTB_IOC_ADD_ROOT " + PathDisplay.show(absolutePath));
        }
    }

    public void clearRoots() throws IOException {
        ioctl(IOC_CLEAR_ROOTS, null, "RTB_IOC_CLEAR_ROOTS");
    }

    public void setMask(int mask) throws IOException {
        arg.setInt(0, mask);
        ioctl(IOC_SET_MASK, arg, "RTB_IOC_SET_MASK");
    }

    public void enable() throws IOException {
        ioctl(IOC_ENABLE, null, "RTB_IOC_ENABLE");
    }

    public void disable() throws IOException {
        ioctl(IOC_DISABLE, null, "RTB_IOC_DISABLE");
    }

    public Counters counters() throws IOException {
        arg.clear(72);
        ioctl(IOC_GET_COUNTERS, arg, "RTB_IOC_GET_COUNTERS");
        return new Counters(arg.getLong(0), arg.getLong(8), arg.getLong(16), arg.getLong(24), arg.getLong(32),
                arg.getLong(40), arg.getLong(48), arg.getInt(56) != 0, arg.getInt(60), arg.getInt(64),
                arg.getInt(68));
    }

    /** Waits up to {@code timeoutMs} for records; true when a read would return some. */
    public boolean awaitReadable(int timeoutMs) throws IOException {
        pollFd.setInt(0, fd);
        pollFd.setShort(4, POLLIN);
        pollFd.setShort(6, (short) 0);
        try {
            return Holder.LIBC.poll(pollFd, new NativeLong(1), timeoutMs) > 0 && (pollFd.getShort(6) & POLLIN) != 0;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EINTR) return false;
            throw new IOException(path + ": poll failed (errno " + e.getErrorCode() + ")", e);
        }
    }

    /** Reads whole records without blocking; an empty array when there are none. */
    public byte[] readRecords() throws IOException {
        try {
            long n = Holder.LIBC.read(fd, readBuffer, new NativeLong(READ_BUFFER_BYTES)).longValue();
            return readBuffer.getByteArray(0, (int) n);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EAGAIN || e.getErrorCode() == EINTR) return new byte[0];
            throw new IOException(path + ": read failed (errno " + e.getErrorCode() + ")", e);
        }
    }

    private void ioctl(long request, Pointer argument, String what) throws IOException {
        try {
            Holder.LIBC.ioctl(fd, new NativeLong(request), argument);
        } catch (LastErrorException e) {
            throw new IOException(path + ": " + what + " failed (errno " + e.getErrorCode() + ")", e);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            Holder.LIBC.close(fd);
        } catch (LastErrorException e) {
            // nothing to do: the descriptor is gone either way
        }
        readBuffer.close();
        arg.close();
        pollFd.close();
    }
}
