package io.rtbackup.fs;

import java.io.IOException;

/**
 * A failed libc call: carries the errno, the call's name and the byte path(s) involved, so a log line says
 * which file failed and why without the caller re-deriving it. The message renders paths with
 * {@link BytePaths#show(byte[])} because raw names may contain newlines or invalid UTF-8.
 */
public class ErrnoException extends IOException {

    private final String call;
    private final int errno;
    private final byte[] path;
    private final byte[] otherPath;

    public ErrnoException(String call, int errno, byte[] path) {
        this(call, errno, path, null);
    }

    public ErrnoException(String call, int errno, byte[] path, byte[] otherPath) {
        super(message(call, errno, path, otherPath));
        this.call = call;
        this.errno = errno;
        this.path = path == null ? null : path.clone();
        this.otherPath = otherPath == null ? null : otherPath.clone();
    }

    private static String message(String call, int errno, byte[] path, byte[] otherPath) {
        StringBuilder sb = new StringBuilder(call).append('(');
        if (path != null) {
            sb.append('\'').append(BytePaths.show(path)).append('\'');
        }
        if (otherPath != null) {
            sb.append(" -> '").append(BytePaths.show(otherPath)).append('\'');
        }
        sb.append("): ").append(Errno.describe(errno));
        return sb.toString();
    }

    /** The libc function that failed, e.g. {@code "openat"}. */
    public String call() {
        return call;
    }

    /** The errno value, compare with the constants in {@link Errno}. */
    public int errno() {
        return errno;
    }

    /** The (first) path the call was about, or null for fd-only calls. */
    public byte[] path() {
        return path == null ? null : path.clone();
    }

    /** The second path of two-path calls (rename, link, symlink), or null. */
    public byte[] otherPath() {
        return otherPath == null ? null : otherPath.clone();
    }

    /** The symbolic name of the errno, e.g. {@code "ENOENT"}. */
    public String errnoName() {
        return Errno.name(errno);
    }

    public boolean isNoEntry() {
        return errno == Errno.ENOENT;
    }
}
