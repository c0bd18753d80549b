package io.rtbackup.fs;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Map;

/** Linux x86_64 errno values used by this project, and their names and descriptions from glibc. */
public final class Errno {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EMLINK = 31;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int ELOOP = 40;
    public static final int EOPNOTSUPP = 95;
    public static final int ESTALE = 116;

    private Errno() {
    }

    /** glibc's thread-safe lookups (2.32+); older glibc gets the names of the constants above and strerror. */
    private static final class Glibc {
        static final boolean HAS_NAMES;

        static {
            boolean ok;
            try {
                Native.register(Glibc.class, NativeLibrary.getInstance("c"));
                ok = true;
            } catch (LinkageError e) {
                ok = false;
            }
            HAS_NAMES = ok;
        }

        private Glibc() {
        }

        static native String strerrorname_np(int errnum);

        static native String strerrordesc_np(int errnum);
    }

    private static final class OldGlibc {
        static {
            Native.register(OldGlibc.class, NativeLibrary.getInstance("c"));
        }

        private OldGlibc() {
        }

        static native String strerror(int errnum);
    }

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(EINTR, "EINTR"),
            Map.entry(EIO, "EIO"), Map.entry(EBADF, "EBADF"), Map.entry(EAGAIN, "EAGAIN"),
            Map.entry(ENOMEM, "ENOMEM"), Map.entry(EACCES, "EACCES"), Map.entry(EBUSY, "EBUSY"),
            Map.entry(EEXIST, "EEXIST"), Map.entry(EXDEV, "EXDEV"), Map.entry(ENOTDIR, "ENOTDIR"),
            Map.entry(EISDIR, "EISDIR"), Map.entry(EINVAL, "EINVAL"), Map.entry(EMFILE, "EMFILE"),
            Map.entry(ENOSPC, "ENOSPC"), Map.entry(EROFS, "EROFS"), Map.entry(EMLINK, "EMLINK"),
            Map.entry(ENAMETOOLONG, "ENAMETOOLONG"), Map.entry(ENOSYS, "ENOSYS"),
            Map.entry(ENOTEMPTY, "ENOTEMPTY"), Map.entry(ELOOP, "ELOOP"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP"),
            Map.entry(ESTALE, "ESTALE"));

    /** The symbolic name, e.g. "ENOENT"; "errno 12345" for values glibc does not know. */
    public static String name(int errno) {
        String name = Glibc.HAS_NAMES ? Glibc.strerrorname_np(errno) : NAMES.get(errno);
        return name != null ? name : "errno " + errno;
    }

    /** The name from this class's own table (used when glibc is older than 2.32), or null. */
    static String fallbackName(int errno) {
        return NAMES.get(errno);
    }

    /** "No such file or directory (ENOENT, errno 2)". */
    public static String describe(int errno) {
        String desc = Glibc.HAS_NAMES ? Glibc.strerrordesc_np(errno) : OldGlibc.strerror(errno);
        return (desc != null ? desc : "Unknown error") + " (" + name(errno) + ", errno " + errno + ")";
    }
}
