package io.rtbackup.cli.e2e;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ErrnoException;
import io.rtbackup.fs.Stat;
import io.rtbackup.fs.WalkEntry;
import io.rtbackup.testkit.HostileNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A seeded file-system workload: every kind of change a backup must carry (create, write at an offset, append,
 * truncate, chmod, renames of files and directories across the tree, hard links, symlinks, deletes, deep nesting)
 * with names from {@link HostileNames} mixed in. The same seed always makes the same choices, so a failure is
 * replayed by its seed; every operation is logged so a failure can show what led to it.
 *
 * <p>The generator looks at the real tree before each choice (it does not model it), so it stays correct whatever
 * a previous operation did. An operation the kernel refuses (a name taken by a directory, a rename into its own
 * subtree) is logged as refused and counts as nothing: the tree is then exactly as the kernel left it.
 */
final class Workload {
    /** Relative paths longer than this are not created: PATH_MAX (4096) on the destination includes its prefix. */
    static final int MAX_REL_PATH = 1800;
    private static final int[] FILE_MODES = {0600, 0644, 0640, 0755, 0700, 0444, 0664};
    private static final int[] DIR_MODES = {0755, 0700, 0750, 0775};
    private static final List<byte[]> HOSTILE = HostileNames.all();

    final long seed;
    private final byte[] root;
    private final Random random;
    private final List<String> log = new ArrayList<>();
    private int applied;
    private int refused;
    private int counter;

    Workload(byte[] root, long seed) {
        this.root = root.clone();
        this.seed = seed;
        this.random = new Random(seed);
    }

    /** Runs {@code ops} operations, pausing briefly every {@code burst} so capture sees both bursts and single changes. */
    void run(int ops, int burst) throws IOException, InterruptedException {
        for (int i = 0; i < ops; i++) {
            step();
            if (burst > 0 && i % burst == burst - 1) Thread.sleep(random.nextInt(60));
        }
    }

    /** Applies one random operation. */
    void step() throws IOException {
        List<WalkEntry> all = ByteFs.walk(root);
        List<byte[]> dirs = new ArrayList<>();
        dirs.add(new byte[0]);
        List<byte[]> files = new ArrayList<>();
        List<byte[]> entries = new ArrayList<>();
        for (WalkEntry e : all) {
            entries.add(e.relPath());
            if (e.stat().isDir()) dirs.add(e.relPath());
            else if (e.stat().isRegular()) files.add(e.relPath());
        }
        int dice = random.nextInt(100);
        // Grow first: with few files most operations would have nothing to work on.
        if (files.size() < 5) dice = random.nextInt(10) < 7 ? 0 : 10;
        try {
            if (dice < 14) createFile(pick(dirs));
            else if (dice < 20) mkdir(pick(dirs));
            else if (dice < 30 && !files.isEmpty()) writeAt(pick(files));
            else if (dice < 38 && !files.isEmpty()) append(pick(files));
            else if (dice < 44 && !files.isEmpty()) truncate(pick(files));
            else if (dice < 52 && !entries.isEmpty()) chmod(pick(entries));
            else if (dice < 62 && !files.isEmpty()) rename(pick(files), pick(dirs));
            else if (dice < 68 && dirs.size() > 1) rename(pick(dirs.subList(1, dirs.size())), pick(dirs));
            else if (dice < 73 && !files.isEmpty()) hardLink(pick(files), pick(dirs));
            else if (dice < 79) symlink(pick(dirs), entries.isEmpty() ? null : pick(entries));
            else if (dice < 87 && !entries.isEmpty()) delete(pick(entries));
            else if (dice < 89 && dirs.size() > 1) deleteTree(pick(dirs.subList(1, dirs.size())));
            else if (dice < 91) deepNest(pick(dirs));
            else if (dice < 95 && !files.isEmpty()) rewriteSameSize(pick(files));
            else if (dice < 98 && !entries.isEmpty()) setMtime(pick(entries));
            else createFile(pick(dirs));
        } catch (ErrnoException e) {
            refused++;
            log.add("  refused: " + e.getMessage());
        }
    }

    private void createFile(byte[] dir) throws IOException {
        byte[] rel = child(dir);
        if (rel == null) return;
        byte[] data = content(random.nextInt(10) == 0 ? 200_000 : 8_000);
        record("create " + show(rel) + " (" + data.length + " bytes)");
        ByteFs.write(abs(rel), data);
    }

    private void mkdir(byte[] dir) throws IOException {
        byte[] rel = child(dir);
        if (rel == null) return;
        int mode = DIR_MODES[random.nextInt(DIR_MODES.length)];
        record("mkdir " + show(rel) + " 0" + Integer.toOctalString(mode));
        ByteFs.mkdir(abs(rel));
        ByteFs.chmod(abs(rel), mode); // chmod, not mkdir's mode: the umask must not decide the test's modes
    }

    private void writeAt(byte[] file) throws IOException {
        long size = ByteFs.lstat(abs(file)).map(Stat::size).orElse(0L);
        long offset = size == 0 ? 0 : (long) (random.nextDouble() * (size + 100));
        byte[] data = content(4_000);
        record("write " + show(file) + " at " + offset + " (" + data.length + " bytes)");
        ByteFs.writeAt(abs(file), offset, data);
    }

    private void append(byte[] file) throws IOException {
        byte[] data = content(2_000);
        record("append " + show(file) + " (" + data.length + " bytes)");
        ByteFs.append(abs(file), data);
    }

    private void truncate(byte[] file) throws IOException {
        long size = ByteFs.lstat(abs(file)).map(Stat::size).orElse(0L);
        long to = random.nextInt(4) == 0 ? size + random.nextInt(5000) : (long) (random.nextDouble() * size);
        record("truncate " + show(file) + " to " + to);
        ByteFs.truncate(abs(file), to);
    }

    private void chmod(byte[] rel) throws IOException {
        Stat st = ByteFs.lstat(abs(rel)).orElseThrow();
        if (st.isSymlink()) return; // Linux has no lchmod; a symlink's mode is always 0777
        int[] modes = st.isDir() ? DIR_MODES : FILE_MODES;
        int mode = modes[random.nextInt(modes.length)];
        record("chmod " + show(rel) + " 0" + Integer.toOctalString(mode));
        ByteFs.chmod(abs(rel), mode);
    }

    private void rename(byte[] from, byte[] toDir) throws IOException {
        byte[] to;
        if (random.nextInt(4) == 0) {
            // onto an existing name in the target directory, if there is one: rename replaces it
            List<byte[]> there = ByteFs.list(abs(toDir));
            to = there.isEmpty() ? child(toDir) : BytePaths.join(toDir, pick(there));
        } else {
            to = child(toDir);
        }
        if (to == null || Arrays.equals(from, to)) return;
        if (deepestLength(from) - from.length + to.length > MAX_REL_PATH) return;
        record("rename " + show(from) + " -> " + show(to));
        ByteFs.rename(abs(from), abs(to));
    }

    private void hardLink(byte[] file, byte[] dir) throws IOException {
        byte[] rel = child(dir);
        if (rel == null) return;
        record("link " + show(file) + " as " + show(rel));
        ByteFs.link(abs(file), abs(rel));
    }

    private void symlink(byte[] dir, byte[] target) throws IOException {
        byte[] rel = child(dir);
        if (rel == null) return;
        byte[] t = switch (random.nextInt(4)) {
            case 0 -> BytePaths.utf8("/etc/hostname"); // absolute, pointing outside the root
            case 1 -> BytePaths.utf8("../../dangling-" + counter++);
            default -> target == null ? BytePaths.utf8("nowhere") : BytePaths.name(target);
        };
        record("symlink " + show(rel) + " -> " + show(t));
        ByteFs.symlink(t, abs(rel));
    }

    private void delete(byte[] rel) throws IOException {
        Stat st = ByteFs.lstat(abs(rel)).orElseThrow();
        if (st.isDir()) {
            deleteTree(rel);
            return;
        }
        record("delete " + show(rel));
        ByteFs.delete(abs(rel));
    }

    private void deleteTree(byte[] rel) throws IOException {
        record("delete tree " + show(rel));
        ByteFs.deleteTree(abs(rel));
    }

    private void deepNest(byte[] dir) throws IOException {
        byte[] rel = dir;
        int depth = 10 + random.nextInt(30);
        for (int i = 0; i < depth && rel.length < MAX_REL_PATH - 40; i++) {
            rel = BytePaths.join(rel, BytePaths.utf8("n" + i));
        }
        byte[] file = BytePaths.join(rel, BytePaths.utf8("bottom-" + counter++));
        record("deep " + show(file));
        ByteFs.mkdirs(abs(rel));
        ByteFs.write(abs(file), content(500));
    }

    /** Same size, new bytes, within the same second: rsync's size+mtime quick check alone would skip it. */
    private void rewriteSameSize(byte[] file) throws IOException {
        long size = ByteFs.lstat(abs(file)).map(Stat::size).orElse(0L);
        if (size > 100_000) return;
        byte[] data = new byte[(int) size];
        random.nextBytes(data);
        record("rewrite same size " + show(file) + " (" + size + " bytes)");
        ByteFs.write(abs(file), data);
    }

    private void setMtime(byte[] rel) throws IOException {
        Stat st = ByteFs.lstat(abs(rel)).orElseThrow();
        if (st.isSymlink()) return; // setMtime follows links
        long mtime = st.mtimeNs() - (long) random.nextInt(1_000_000) * 1_000_000_000L - random.nextInt(1_000_000_000);
        record("set mtime " + show(rel) + " to " + mtime);
        ByteFs.setMtime(abs(rel), mtime);
    }

    /** A new name in {@code dir}: usually a plain counter name, sometimes a hostile one; null when it would be too long. */
    private byte[] child(byte[] dir) {
        byte[] name;
        if (random.nextInt(5) == 0) {
            name = pick(HOSTILE);
            if (name.length < 200 && random.nextBoolean()) name = BytePaths.concat(name, BytePaths.utf8("" + counter++));
        } else {
            name = BytePaths.utf8((random.nextBoolean() ? "f" : "d") + counter++);
        }
        byte[] rel = BytePaths.join(dir, name);
        return rel.length > MAX_REL_PATH ? null : rel;
    }

    /** The longest relative path below {@code rel} (itself if it is not a directory). */
    private int deepestLength(byte[] rel) throws IOException {
        Stat st = ByteFs.lstat(abs(rel)).orElseThrow();
        if (!st.isDir()) return rel.length;
        int max = rel.length;
        for (WalkEntry e : ByteFs.walk(abs(rel))) max = Math.max(max, rel.length + 1 + e.relPath().length);
        return max;
    }

    private byte[] content(int maxSize) {
        byte[] data = new byte[random.nextInt(maxSize + 1)];
        random.nextBytes(data);
        return data;
    }

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    private byte[] abs(byte[] rel) {
        return rel.length == 0 ? root.clone() : BytePaths.join(root, rel);
    }

    private void record(String op) {
        applied++;
        log.add(applied + ": " + op);
    }

    private static String show(byte[] rel) {
        return "'" + BytePaths.show(rel) + "'";
    }

    int applied() {
        return applied;
    }

    int refused() {
        return refused;
    }

    /** The last {@code n} log lines, for failure messages. */
    String tail(int n) {
        List<String> last = log.subList(Math.max(0, log.size() - n), log.size());
        return String.join("\n", last);
    }

    @Override
    public String toString() {
        return "workload seed " + seed + " (" + applied + " operations applied, " + refused + " refused)";
    }
}
