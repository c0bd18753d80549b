package io.rtbackup.fs;

import static io.rtbackup.fs.Posix.AT_FDCWD;
import static io.rtbackup.fs.Posix.AT_REMOVEDIR;
import static io.rtbackup.fs.Posix.AT_SYMLINK_NOFOLLOW;
import static io.rtbackup.fs.Posix.O_APPEND;
import static io.rtbackup.fs.Posix.O_CLOEXEC;
import static io.rtbackup.fs.Posix.O_CREAT;
import static io.rtbackup.fs.Posix.O_DIRECTORY;
import static io.rtbackup.fs.Posix.O_NOFOLLOW;
import static io.rtbackup.fs.Posix.O_RDONLY;
import static io.rtbackup.fs.Posix.O_TRUNC;
import static io.rtbackup.fs.Posix.O_WRONLY;

import com.sun.jna.Memory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * File operations on raw byte paths (absolute, or relative to the process's working directory).
 *
 * <p>Operations that act on a name never follow a symlink in the last component (write, append, truncate,
 * readAll, chmod, chown, setMtime, delete, lstat) because a backup tool must copy and touch links, not what they
 * point to. The tree walk and {@link #deleteTree(byte[])} work on directory fds opened with O_NOFOLLOW, so a
 * symlink swapped in for a directory while they run cannot lead them out of the tree.
 */
public final class ByteFs {

    /** Mode for new directories and files; the process umask still applies, as with mkdir(1) and touch(1). */
    public static final int DEFAULT_DIR_MODE = 0777;
    public static final int DEFAULT_FILE_MODE = 0666;

    private static final int DIR_OPEN = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    private static final int DIR_OPEN_NOFOLLOW = DIR_OPEN | O_NOFOLLOW;
    private static final int DIRENT_BUFFER = 64 * 1024;
    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};

    private ByteFs() {
    }

    // ---- directories ------------------------------------------------------------------------------------------

    public static void mkdir(byte[] path) throws ErrnoException {
        Posix.mkdirat(AT_FDCWD, path, DEFAULT_DIR_MODE);
    }

    public static void mkdir(byte[] path, int mode) throws ErrnoException {
        Posix.mkdirat(AT_FDCWD, path, mode);
    }

    /** Creates {@code path} and its missing ancestors; an existing directory is fine, an existing non-directory is not. */
    public static void mkdirs(byte[] path) throws ErrnoException {
        mkdirs(path, DEFAULT_DIR_MODE);
    }

    public static void mkdirs(byte[] path, int mode) throws ErrnoException {
        Optional<Stat> st = stat(path);
        if (st.isPresent()) {
            if (!st.get().isDir()) {
                throw new ErrnoException("mkdirs", Errno.ENOTDIR, path);
            }
            return;
        }
        byte[] parent = BytePaths.parent(path);
        if (parent.length > 0 && !java.util.Arrays.equals(parent, path)) {
            mkdirs(parent, mode);
        }
        try {
            Posix.mkdirat(AT_FDCWD, path, mode);
        } catch (ErrnoException e) {
            // a concurrent creator is fine as long as the result is a directory
            if (e.errno() != Errno.EEXIST || !stat(path).map(Stat::isDir).orElse(false)) {
                throw e;
            }
        }
    }

    /** Names in {@code dir} (without "." and ".."), in unsigned byte order. */
    public static List<byte[]> list(byte[] dir) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, dir, DIR_OPEN, 0);
        try (Memory buf = new Memory(DIRENT_BUFFER)) {
            return readNames(fd, dir, buf);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    // ---- file content -----------------------------------------------------------------------------------------

    /** Creates {@code path} or truncates and overwrites it in place (same inode, so hard links see the change). */
    public static void write(byte[] path, byte[] data) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, DEFAULT_FILE_MODE);
        writeAndClose(fd, path, data, -1);
    }

    /** Writes {@code data} at byte {@code offset}, creating the file if needed and keeping the rest. */
    public static void writeAt(byte[] path, long offset, byte[] data) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, DEFAULT_FILE_MODE);
        writeAndClose(fd, path, data, offset);
    }

    /** Appends {@code data}, creating the file if needed. */
    public static void append(byte[] path, byte[] data) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, DEFAULT_FILE_MODE);
        writeAndClose(fd, path, data, -1);
    }

    private static void writeAndClose(int fd, byte[] path, byte[] data, long offset) throws ErrnoException {
        try {
            int done = 0;
            while (done < data.length) {
                byte[] rest = done == 0 ? data : java.util.Arrays.copyOfRange(data, done, data.length);
                int n = offset < 0
                        ? Posix.write(fd, rest, 0, rest.length)
                        : Posix.pwrite(fd, rest, 0, rest.length, offset + done);
                done += n;
            }
        } catch (ErrnoException e) {
            Posix.closeQuietly(fd);
            throw withPath(e, path);
        }
        try {
            Posix.close(fd);
        } catch (ErrnoException e) {
            // close can report a deferred write error (e.g. on NFS): the data may not be there
            throw withPath(e, path);
        }
    }

    /** Sets the file's size, cutting or zero-extending it. */
    public static void truncate(byte[] path, long size) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        try {
            Posix.ftruncate(fd, size);
        } catch (ErrnoException e) {
            throw withPath(e, path);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    /** The whole content of a regular file (a symlink fails with ELOOP). */
    public static byte[] readAll(byte[] path) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        try {
            long size = Posix.fstat(fd).size();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Math.max(size, 16), 1 << 24));
            byte[] buf = new byte[(int) Math.min(Math.max(size + 1, 4096), 1 << 20)];
            int n;
            while ((n = Posix.read(fd, buf, 0, buf.length)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (ErrnoException e) {
            throw withPath(e, path);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    // ---- metadata ---------------------------------------------------------------------------------------------

    /** lstat(2); empty if the path does not exist (ENOENT, or ENOTDIR for a file used as a directory). */
    public static Optional<Stat> lstat(byte[] path) throws ErrnoException {
        return statOrEmpty(path, AT_SYMLINK_NOFOLLOW);
    }

    /** stat(2), following symlinks; empty if the path or a symlink's target does not exist. */
    public static Optional<Stat> stat(byte[] path) throws ErrnoException {
        return statOrEmpty(path, 0);
    }

    private static Optional<Stat> statOrEmpty(byte[] path, int flags) throws ErrnoException {
        try {
            return Optional.of(Posix.fstatat(AT_FDCWD, path, flags));
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** True if something (also a dangling symlink) exists at {@code path}. */
    public static boolean exists(byte[] path) throws ErrnoException {
        return lstat(path).isPresent();
    }

    /** Sets permission bits (07777). A symlink fails with EOPNOTSUPP: Linux symlinks have no mode of their own. */
    public static void chmod(byte[] path, int mode) throws ErrnoException {
        Posix.fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW);
    }

    /** Sets owner and group of the entry itself (lchown); -1 leaves one unchanged. */
    public static void chown(byte[] path, int uid, int gid) throws ErrnoException {
        Posix.fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
    }

    /** Sets the modification time (ns since the epoch) of the entry itself, leaving the access time. */
    public static void setMtime(byte[] path, long mtimeNs) throws ErrnoException {
        Posix.utimensat(AT_FDCWD, path, 0, Posix.UTIME_OMIT,
                Math.floorDiv(mtimeNs, 1_000_000_000L), Math.floorMod(mtimeNs, 1_000_000_000L), AT_SYMLINK_NOFOLLOW);
    }

    /** Sets access and modification time (ns since the epoch) of the entry itself. */
    public static void setTimes(byte[] path, long atimeNs, long mtimeNs) throws ErrnoException {
        Posix.utimensat(AT_FDCWD, path,
                Math.floorDiv(atimeNs, 1_000_000_000L), Math.floorMod(atimeNs, 1_000_000_000L),
                Math.floorDiv(mtimeNs, 1_000_000_000L), Math.floorMod(mtimeNs, 1_000_000_000L), AT_SYMLINK_NOFOLLOW);
    }

    // ---- names ------------------------------------------------------------------------------------------------

    /** rename(2): atomically replaces {@code to} if it exists. */
    public static void rename(byte[] from, byte[] to) throws ErrnoException {
        Posix.renameat2(AT_FDCWD, from, AT_FDCWD, to, 0);
    }

    /** renameat2(2) with {@link Posix#RENAME_NOREPLACE} or {@link Posix#RENAME_EXCHANGE}. */
    public static void rename(byte[] from, byte[] to, int flags) throws ErrnoException {
        Posix.renameat2(AT_FDCWD, from, AT_FDCWD, to, flags);
    }

    /** Creates symlink {@code link} whose content is {@code target} (which need not exist). */
    public static void symlink(byte[] target, byte[] link) throws ErrnoException {
        Posix.symlinkat(target, AT_FDCWD, link);
    }

    /** Creates hard link {@code newLink} to {@code existing} (a symlink is linked itself, not its target). */
    public static void link(byte[] existing, byte[] newLink) throws ErrnoException {
        Posix.linkat(AT_FDCWD, existing, AT_FDCWD, newLink, 0);
    }

    /** The target bytes of symlink {@code path}; EINVAL if it is not a symlink. */
    public static byte[] readlink(byte[] path) throws ErrnoException {
        return Posix.readlinkat(AT_FDCWD, path);
    }

    /** Removes a file, symlink or empty directory; false if nothing was there. */
    public static boolean delete(byte[] path) throws ErrnoException {
        try {
            Posix.unlinkat(AT_FDCWD, path, 0);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            if (e.errno() != Errno.EISDIR) {
                throw e;
            }
        }
        try {
            Posix.unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Removes {@code path} and everything below it without following symlinks; false if nothing was there.
     * Symlinks inside are removed, never their targets.
     */
    public static boolean deleteTree(byte[] path) throws ErrnoException {
        Optional<Stat> st = lstat(path);
        if (st.isEmpty()) {
            return false;
        }
        if (!st.get().isDir()) {
            return delete(path);
        }
        int fd;
        try {
            fd = Posix.openat(AT_FDCWD, path, DIR_OPEN_NOFOLLOW, 0);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            // replaced by a symlink or file since the lstat: remove that name only
            if (e.errno() == Errno.ELOOP || e.errno() == Errno.ENOTDIR) {
                return delete(path);
            }
            throw e;
        }
        try (Memory buf = new Memory(DIRENT_BUFFER)) {
            clearDir(fd, path, buf);
        } finally {
            Posix.closeQuietly(fd);
        }
        return delete(path);
    }

    private static void clearDir(int dirfd, byte[] dirPath, Memory buf) throws ErrnoException {
        for (byte[] name : readNames(dirfd, dirPath, buf)) {
            byte[] full = BytePaths.join(dirPath, name);
            try {
                try {
                    Posix.unlinkat(dirfd, name, 0);
                    continue;
                } catch (ErrnoException e) {
                    if (e.errno() == Errno.ENOENT) {
                        continue;
                    }
                    if (e.errno() != Errno.EISDIR) {
                        throw e;
                    }
                }
                int child = Posix.openat(dirfd, name, DIR_OPEN_NOFOLLOW, 0);
                try {
                    clearDir(child, full, buf);
                } finally {
                    Posix.closeQuietly(child);
                }
                Posix.unlinkat(dirfd, name, AT_REMOVEDIR);
            } catch (ErrnoException e) {
                throw withPath(e, full);
            }
        }
    }

    // ---- walking ----------------------------------------------------------------------------------------------

    /**
     * Visits every entry below {@code root} (the root itself is opened following symlinks, everything below it
     * without): a directory before its contents, each directory's entries in unsigned byte order, each with its
     * lstat. Entries deleted while the walk runs are skipped. Mount points are crossed.
     */
    public static void walk(byte[] root, TreeVisitor visitor) throws IOException {
        int fd = Posix.openat(AT_FDCWD, root, DIR_OPEN, 0);
        try (Memory buf = new Memory(DIRENT_BUFFER)) {
            walkDir(fd, root, new byte[0], visitor, buf);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    /** All entries below {@code root} in walk order. */
    public static List<WalkEntry> walk(byte[] root) throws IOException {
        List<WalkEntry> out = new ArrayList<>();
        walk(root, (rel, st) -> {
            out.add(new WalkEntry(rel, st));
            return true;
        });
        return out;
    }

    private static void walkDir(int dirfd, byte[] root, byte[] rel, TreeVisitor visitor, Memory buf)
            throws IOException {
        List<byte[]> names = readNames(dirfd, BytePaths.join(root, rel), buf);
        for (byte[] name : names) {
            byte[] childRel = BytePaths.join(rel, name);
            Stat st;
            try {
                st = Posix.fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.ENOENT) {
                    continue;
                }
                throw withPath(e, BytePaths.join(root, childRel));
            }
            boolean descend = visitor.visit(childRel, st);
            if (!st.isDir() || !descend) {
                continue;
            }
            int child;
            try {
                child = Posix.openat(dirfd, name, DIR_OPEN_NOFOLLOW, 0);
            } catch (ErrnoException e) {
                // gone, or replaced by a symlink or file since the fstatat: nothing to walk into
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.ELOOP || e.errno() == Errno.ENOTDIR) {
                    continue;
                }
                throw withPath(e, BytePaths.join(root, childRel));
            }
            try {
                walkDir(child, root, childRel, visitor, buf);
            } finally {
                Posix.closeQuietly(child);
            }
        }
    }

    /** All names of the open directory except "." and "..", sorted; reads from the fd's current position. */
    private static List<byte[]> readNames(int dirfd, byte[] dirPath, Memory buf) throws ErrnoException {
        List<byte[]> names = new ArrayList<>();
        byte[] chunk = new byte[(int) buf.size()];
        while (true) {
            int n;
            try {
                n = Posix.getdents64(dirfd, buf, (int) buf.size());
            } catch (ErrnoException e) {
                throw withPath(e, dirPath);
            }
            if (n == 0) {
                break;
            }
            buf.read(0, chunk, 0, n);
            int pos = 0;
            while (pos < n) {
                // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16 @16, d_type u8 @18, d_name @19
                int reclen = (chunk[pos + 16] & 0xFF) | ((chunk[pos + 17] & 0xFF) << 8);
                int nameStart = pos + 19;
                int nameEnd = nameStart;
                while (nameEnd < pos + reclen && chunk[nameEnd] != 0) {
                    nameEnd++;
                }
                byte[] name = java.util.Arrays.copyOfRange(chunk, nameStart, nameEnd);
                if (!java.util.Arrays.equals(name, DOT) && !java.util.Arrays.equals(name, DOTDOT)) {
                    names.add(name);
                }
                pos += reclen;
            }
        }
        names.sort(BytePaths.ORDER);
        return names;
    }

    // ---- containment checks -----------------------------------------------------------------------------------

    /**
     * Proves that {@code relPath} names a directory inside {@code root} reached through real directories only:
     * each component is opened relative to the previous one with O_NOFOLLOW|O_DIRECTORY, so a symlink anywhere
     * (also one swapped in concurrently) stops the walk. {@code root} itself may be or contain a symlink: it
     * comes from configuration, not from the event. Empty components and "." are skipped; ".." is refused.
     *
     * @throws ErrnoException if the root cannot be opened or a component fails for another reason (EACCES, EIO)
     */
    public static PathCheck openDirNoFollow(byte[] root, byte[] relPath) throws ErrnoException {
        Optional<PathCheck> invalid = validateRelative(relPath);
        if (invalid.isPresent()) {
            return invalid.get();
        }
        return checkDirs(root, BytePaths.components(relPath));
    }

    /**
     * Like {@link #openDirNoFollow(byte[], byte[])} for the directories leading to {@code relPath}: all
     * components except the last must be real directories; the last may be anything or missing. This is the
     * check before letting a tool create, replace or delete {@code relPath} inside {@code root}.
     */
    public static PathCheck checkParentsNoFollow(byte[] root, byte[] relPath) throws ErrnoException {
        Optional<PathCheck> invalid = validateRelative(relPath);
        if (invalid.isPresent()) {
            return invalid.get();
        }
        List<byte[]> comps = BytePaths.components(relPath);
        return checkDirs(root, comps.isEmpty() ? comps : comps.subList(0, comps.size() - 1));
    }

    private static Optional<PathCheck> validateRelative(byte[] relPath) {
        if (BytePaths.isAbsolute(relPath)) {
            return Optional.of(new PathCheck.Invalid(relPath, "it is absolute"));
        }
        for (byte b : relPath) {
            if (b == 0) {
                return Optional.of(new PathCheck.Invalid(relPath, "it contains a NUL byte"));
            }
        }
        for (byte[] c : BytePaths.components(relPath)) {
            if (java.util.Arrays.equals(c, DOTDOT)) {
                return Optional.of(new PathCheck.Invalid(relPath, "it contains a '..' component"));
            }
        }
        return Optional.empty();
    }

    private static PathCheck checkDirs(byte[] root, List<byte[]> comps) throws ErrnoException {
        int fd = Posix.openat(AT_FDCWD, root, DIR_OPEN, 0);
        try {
            byte[] prefix = new byte[0];
            for (byte[] comp : comps) {
                if (java.util.Arrays.equals(comp, DOT)) {
                    continue;
                }
                prefix = BytePaths.join(prefix, comp);
                int next;
                try {
                    next = Posix.openat(fd, comp, DIR_OPEN_NOFOLLOW, 0);
                } catch (ErrnoException e) {
                    switch (e.errno()) {
                        case Errno.ENOENT:
                            return new PathCheck.Missing(prefix);
                        case Errno.ELOOP:
                        case Errno.ENOTDIR:
                            return classifyNonDir(fd, comp, prefix);
                        default:
                            throw withPath(e, BytePaths.join(root, prefix));
                    }
                }
                Posix.closeQuietly(fd);
                fd = next;
            }
            return new PathCheck.Inside();
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    private static PathCheck classifyNonDir(int dirfd, byte[] comp, byte[] prefix) throws ErrnoException {
        Stat st;
        try {
            st = Posix.fstatat(dirfd, comp, AT_SYMLINK_NOFOLLOW);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) {
                return new PathCheck.Missing(prefix);
            }
            throw e;
        }
        return st.isSymlink() ? new PathCheck.ThroughSymlink(prefix) : new PathCheck.NotADirectory(prefix);
    }

    /** The same failure, named by the full path instead of the name relative to a directory fd. */
    private static ErrnoException withPath(ErrnoException e, byte[] fullPath) {
        ErrnoException named = new ErrnoException(e.call(), e.errno(), fullPath, e.otherPath());
        named.setStackTrace(e.getStackTrace());
        return named;
    }
}
