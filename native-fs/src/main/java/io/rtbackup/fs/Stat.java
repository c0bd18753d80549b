package io.rtbackup.fs;

/**
 * The fields of {@code struct stat} this project uses. {@code mtimeNs} is nanoseconds since the epoch
 * (seconds * 1e9 + nanoseconds), which fits a long until the year 2262.
 */
public record Stat(int mode, long size, long mtimeNs, long ino, long dev, long nlink, int uid, int gid) {

    public boolean isDir() {
        return (mode & Posix.S_IFMT) == Posix.S_IFDIR;
    }

    public boolean isRegular() {
        return (mode & Posix.S_IFMT) == Posix.S_IFREG;
    }

    public boolean isSymlink() {
        return (mode & Posix.S_IFMT) == Posix.S_IFLNK;
    }

    /** The file type bits ({@code mode & S_IFMT}). */
    public int type() {
        return mode & Posix.S_IFMT;
    }

    /** Permission bits including setuid, setgid and sticky ({@code mode & 07777}). */
    public int permissions() {
        return mode & 07777;
    }

    /** Whole seconds of the modification time (floor, also for times before 1970). */
    public long mtimeSec() {
        return Math.floorDiv(mtimeNs, 1_000_000_000L);
    }

    /** The nanosecond part of the modification time, 0..999999999. */
    public int mtimeNsPart() {
        return (int) Math.floorMod(mtimeNs, 1_000_000_000L);
    }

    /** A short name of the file type for messages: "dir", "file", "symlink", "fifo", "socket", "chardev", "blockdev". */
    public String typeName() {
        return switch (type()) {
            case Posix.S_IFDIR -> "dir";
            case Posix.S_IFREG -> "file";
            case Posix.S_IFLNK -> "symlink";
            case Posix.S_IFIFO -> "fifo";
            case Posix.S_IFSOCK -> "socket";
            case Posix.S_IFCHR -> "chardev";
            case Posix.S_IFBLK -> "blockdev";
            default -> "unknown(0" + Integer.toOctalString(type()) + ")";
        };
    }
}
