package io.rtbackup.testkit;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.Posix;
import io.rtbackup.fs.Stat;
import io.rtbackup.fs.WalkEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Byte-exact comparison of a source tree and its copy: the same names (as bytes), types, file content,
 * permission bits, modification times, symlink targets and hard-link structure. Both trees are walked with
 * {@link ByteFs#walk(byte[])}, so symlinks are compared as links and never followed. The roots themselves are
 * not compared, only what is below them.
 *
 * <p>Instances are immutable; the {@code with...}/{@code ignoring...} methods return adjusted copies:
 * <pre>{@code TreeDiff.defaults().withNanosecondMtime().excluding("lost+found").compare(src, copy)}</pre>
 */
public final class TreeDiff {

    /** What differs. */
    public enum Kind {
        /** In the source, not in the copy. */
        MISSING,
        /** In the copy, not in the source. */
        EXTRA,
        /** Both exist with different file types (e.g. file vs. directory). */
        TYPE,
        /** Regular files with different sizes or bytes. */
        CONTENT,
        /** Different permission bits (07777); not compared for symlinks. */
        MODE,
        /** Different modification time (seconds, or nanoseconds when enabled). */
        MTIME,
        /** Different owner or group (only when enabled). */
        OWNER,
        /** Symlinks with different targets. */
        SYMLINK_TARGET,
        /** Paths sharing an inode in one tree do not share one in the other. */
        HARDLINK
    }

    /** One difference at {@code relPath} (relative to both roots). */
    public record Difference(Kind kind, byte[] relPath, String detail) {

        public Difference {
            relPath = relPath.clone();
        }

        @Override
        public byte[] relPath() {
            return relPath.clone();
        }

        /** The relative path rendered with {@link BytePaths#show(byte[])}. */
        public String path() {
            return BytePaths.show(relPath);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Difference d && d.kind == kind && Arrays.equals(d.relPath, relPath)
                    && d.detail.equals(detail);
        }

        @Override
        public int hashCode() {
            return kind.hashCode() * 31 + Arrays.hashCode(relPath);
        }

        @Override
        public String toString() {
            return kind + " '" + path() + "': " + detail;
        }
    }

    /** The outcome of one comparison, differences sorted by path (unsigned bytes) then kind. */
    public record Result(byte[] source, byte[] copy, List<Difference> differences) {

        public Result {
            differences = List.copyOf(differences);
        }

        public boolean isEqual() {
            return differences.isEmpty();
        }

        public Optional<Difference> firstDifference() {
            return differences.stream().findFirst();
        }

        /** The differences of one kind. */
        public List<Difference> ofKind(Kind kind) {
            return differences.stream().filter(d -> d.kind() == kind).toList();
        }

        /** A readable summary: "trees equal" or the count and the first 20 differences, one per line. */
        public String describe() {
            String header = "'" + BytePaths.show(source) + "' vs '" + BytePaths.show(copy) + "': ";
            if (differences.isEmpty()) {
                return header + "trees equal";
            }
            StringBuilder sb = new StringBuilder(header).append(differences.size()).append(" difference(s)");
            differences.stream().limit(20).forEach(d -> sb.append("\n  ").append(d));
            if (differences.size() > 20) {
                sb.append("\n  ...");
            }
            return sb.toString();
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    private final boolean compareMtime;
    private final boolean nanosecondMtime;
    private final boolean compareDirMtime;
    private final boolean compareOwner;
    private final Set<ByteBuffer> excludedTopLevel;

    private TreeDiff(boolean compareMtime, boolean nanosecondMtime, boolean compareDirMtime, boolean compareOwner,
                     Set<ByteBuffer> excludedTopLevel) {
        this.compareMtime = compareMtime;
        this.nanosecondMtime = nanosecondMtime;
        this.compareDirMtime = compareDirMtime;
        this.compareOwner = compareOwner;
        this.excludedTopLevel = Set.copyOf(excludedTopLevel);
    }

    /** Compares names, types, content, modes, symlink targets, hard links and mtimes in whole seconds. */
    public static TreeDiff defaults() {
        return new TreeDiff(true, false, true, false, Set.of());
    }

    /**
     * Compare regular files' modification times to the nanosecond instead of the second. Directories and
     * symlinks stay compared to the second: rsync (3.5.0 here) leaves their mtime alone when the copy's
     * creation time falls in the same second as the source's mtime, so their nanoseconds are not replicated.
     */
    public TreeDiff withNanosecondMtime() {
        return new TreeDiff(compareMtime, true, compareDirMtime, compareOwner, excludedTopLevel);
    }

    /** Do not compare modification times at all. */
    public TreeDiff ignoringMtime() {
        return new TreeDiff(false, nanosecondMtime, compareDirMtime, compareOwner, excludedTopLevel);
    }

    /** Do not compare directories' modification times (they change whenever an entry is added or removed). */
    public TreeDiff ignoringDirMtime() {
        return new TreeDiff(compareMtime, nanosecondMtime, false, compareOwner, excludedTopLevel);
    }

    /** Also compare uid and gid. */
    public TreeDiff withOwner() {
        return new TreeDiff(compareMtime, nanosecondMtime, compareDirMtime, true, excludedTopLevel);
    }

    /** Ignore these top-level names (and everything below them) in both trees. */
    public TreeDiff excluding(byte[]... topLevelNames) {
        Set<ByteBuffer> excluded = new HashSet<>(excludedTopLevel);
        for (byte[] n : topLevelNames) {
            excluded.add(ByteBuffer.wrap(n.clone()));
        }
        return new TreeDiff(compareMtime, nanosecondMtime, compareDirMtime, compareOwner, excluded);
    }

    /** Ignore these top-level names (UTF-8 encoded) in both trees. */
    public TreeDiff excluding(String... topLevelNames) {
        byte[][] names = new byte[topLevelNames.length][];
        for (int i = 0; i < names.length; i++) {
            names[i] = BytePaths.utf8(topLevelNames[i]);
        }
        return excluding(names);
    }

    /** Compares with default settings. */
    public static Result compareTrees(byte[] source, byte[] copy) throws IOException {
        return defaults().compare(source, copy);
    }

    /** Throws an AssertionError describing the differences unless the trees are equal. */
    public void assertEqual(byte[] source, byte[] copy) throws IOException {
        Result r = compare(source, copy);
        if (!r.isEqual()) {
            throw new AssertionError(r.describe());
        }
    }

    public Result compare(byte[] source, byte[] copy) throws IOException {
        Map<ByteBuffer, Stat> src = index(source);
        Map<ByteBuffer, Stat> dst = index(copy);
        List<Difference> diffs = new ArrayList<>();

        for (Map.Entry<ByteBuffer, Stat> e : src.entrySet()) {
            byte[] rel = bytes(e.getKey());
            Stat s = e.getValue();
            Stat d = dst.get(e.getKey());
            if (d == null) {
                diffs.add(new Difference(Kind.MISSING, rel, s.typeName() + " missing in the copy"));
                continue;
            }
            if (s.type() != d.type()) {
                diffs.add(new Difference(Kind.TYPE, rel, s.typeName() + " in the source, " + d.typeName()
                        + " in the copy"));
                continue;
            }
            compareEntry(source, copy, rel, s, d, diffs);
        }
        for (Map.Entry<ByteBuffer, Stat> e : dst.entrySet()) {
            if (!src.containsKey(e.getKey())) {
                diffs.add(new Difference(Kind.EXTRA, bytes(e.getKey()), e.getValue().typeName()
                        + " only in the copy"));
            }
        }
        compareHardLinks(src, dst, diffs);

        diffs.sort(Comparator.comparing(Difference::relPath, BytePaths.ORDER).thenComparing(Difference::kind));
        return new Result(source.clone(), copy.clone(), diffs);
    }

    private void compareEntry(byte[] sourceRoot, byte[] copyRoot, byte[] rel, Stat s, Stat d, List<Difference> diffs)
            throws IOException {
        if (s.isRegular()) {
            if (s.size() != d.size()) {
                diffs.add(new Difference(Kind.CONTENT, rel, "size " + s.size() + " in the source, " + d.size()
                        + " in the copy"));
            } else {
                long at = firstDifferentByte(BytePaths.join(sourceRoot, rel), BytePaths.join(copyRoot, rel));
                if (at >= 0) {
                    diffs.add(new Difference(Kind.CONTENT, rel, "content differs at byte " + at));
                }
            }
        }
        if (s.isSymlink()) {
            byte[] st = ByteFs.readlink(BytePaths.join(sourceRoot, rel));
            byte[] dt = ByteFs.readlink(BytePaths.join(copyRoot, rel));
            if (!Arrays.equals(st, dt)) {
                diffs.add(new Difference(Kind.SYMLINK_TARGET, rel, "target '" + BytePaths.show(st)
                        + "' in the source, '" + BytePaths.show(dt) + "' in the copy"));
            }
        } else if (s.permissions() != d.permissions()) {
            diffs.add(new Difference(Kind.MODE, rel, "mode 0" + Integer.toOctalString(s.permissions())
                    + " in the source, 0" + Integer.toOctalString(d.permissions()) + " in the copy"));
        }
        if (compareMtime && (compareDirMtime || !s.isDir())) {
            boolean same = nanosecondMtime && s.isRegular() ? s.mtimeNs() == d.mtimeNs() : s.mtimeSec() == d.mtimeSec();
            if (!same) {
                diffs.add(new Difference(Kind.MTIME, rel, "mtime " + formatTime(s) + " in the source, "
                        + formatTime(d) + " in the copy"));
            }
        }
        if (compareOwner && (s.uid() != d.uid() || s.gid() != d.gid())) {
            diffs.add(new Difference(Kind.OWNER, rel, "owner " + s.uid() + ":" + s.gid() + " in the source, "
                    + d.uid() + ":" + d.gid() + " in the copy"));
        }
    }

    private static String formatTime(Stat s) {
        return s.mtimeSec() + "." + String.format("%09d", s.mtimeNsPart());
    }

    /**
     * For every group of non-directory paths sharing an inode in one tree, the same paths must share one inode
     * in the other tree. Checked both ways, so links the copy added are reported as well as links it lost.
     */
    private static void compareHardLinks(Map<ByteBuffer, Stat> src, Map<ByteBuffer, Stat> dst,
                                         List<Difference> diffs) {
        Set<ByteBuffer> reported = new HashSet<>();
        checkGroups(src, dst, "source", "copy", reported, diffs);
        checkGroups(dst, src, "copy", "source", reported, diffs);
    }

    private static void checkGroups(Map<ByteBuffer, Stat> tree, Map<ByteBuffer, Stat> other, String treeName,
                                    String otherName, Set<ByteBuffer> reported, List<Difference> diffs) {
        Map<List<Long>, List<ByteBuffer>> groups = new LinkedHashMap<>();
        for (Map.Entry<ByteBuffer, Stat> e : tree.entrySet()) {
            Stat st = e.getValue();
            if (!st.isDir() && st.nlink() > 1) {
                groups.computeIfAbsent(List.of(st.dev(), st.ino()), k -> new ArrayList<>()).add(e.getKey());
            }
        }
        for (List<ByteBuffer> group : groups.values()) {
            if (group.size() < 2) {
                continue;
            }
            ByteBuffer first = group.get(0);
            Stat firstOther = other.get(first);
            for (ByteBuffer p : group.subList(1, group.size())) {
                Stat o = other.get(p);
                if (firstOther == null || o == null || firstOther.isDir() || o.isDir()) {
                    continue; // already reported as missing or type difference
                }
                boolean shared = firstOther.dev() == o.dev() && firstOther.ino() == o.ino();
                if (!shared && reported.add(p)) {
                    diffs.add(new Difference(Kind.HARDLINK, bytes(p), "a hard link of '"
                            + BytePaths.show(bytes(first)) + "' in the " + treeName + ", a separate inode in the "
                            + otherName));
                }
            }
        }
    }

    private Map<ByteBuffer, Stat> index(byte[] root) throws IOException {
        Map<ByteBuffer, Stat> out = new TreeMap<>(Comparator.comparing(TreeDiff::bytes, BytePaths.ORDER));
        for (WalkEntry e : ByteFs.walk(root)) {
            byte[] rel = e.relPath();
            if (!excludedTopLevel.isEmpty()) {
                byte[] top = BytePaths.components(rel).get(0);
                if (excludedTopLevel.contains(ByteBuffer.wrap(top))) {
                    continue;
                }
            }
            out.put(ByteBuffer.wrap(rel), e.stat());
        }
        return out;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Offset of the first differing byte of two same-sized files, or -1; reads in chunks, not whole files. */
    private static long firstDifferentByte(byte[] a, byte[] b) throws IOException {
        int fa = Posix.openat(Posix.AT_FDCWD, a, Posix.O_RDONLY | Posix.O_NOFOLLOW | Posix.O_CLOEXEC, 0);
        try {
            int fb = Posix.openat(Posix.AT_FDCWD, b, Posix.O_RDONLY | Posix.O_NOFOLLOW | Posix.O_CLOEXEC, 0);
            try {
                byte[] ba = new byte[1 << 20];
                byte[] bb = new byte[1 << 20];
                long pos = 0;
                while (true) {
                    int na = readFully(fa, ba);
                    int nb = readFully(fb, bb);
                    int mismatch = Arrays.mismatch(ba, 0, na, bb, 0, nb);
                    if (mismatch >= 0) {
                        return pos + mismatch;
                    }
                    if (na == 0) {
                        return -1;
                    }
                    pos += na;
                }
            } finally {
                Posix.closeQuietly(fb);
            }
        } finally {
            Posix.closeQuietly(fa);
        }
    }

    private static int readFully(int fd, byte[] buf) throws IOException {
        int n = 0;
        while (n < buf.length) {
            int r = Posix.read(fd, buf, n, buf.length - n);
            if (r == 0) {
                break;
            }
            n += r;
        }
        return n;
    }
}
