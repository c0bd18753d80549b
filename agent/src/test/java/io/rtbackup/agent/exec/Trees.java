package io.rtbackup.agent.exec;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.Stat;
import io.rtbackup.fs.WalkEntry;
import io.rtbackup.testkit.TreeDiff;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Byte-exact tree comparison for the executor's tests: every entry's type, permissions, owner, size, mtime (ns,
 * also of directories and symlinks), content digest or symlink target, and which names share an inode.
 */
final class Trees {
    private Trees() {
    }

    /** Entries below {@code root}, keyed by their escaped relative path, rsync's partial dir left out. */
    static Map<String, String> snapshot(byte[] root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Map<Long, String> firstNameOfInode = new HashMap<>();
        for (WalkEntry e : ByteFs.walk(root)) {
            String rel = BytePaths.show(e.relPath());
            if (rel.equals(RsyncPlanner.PARTIAL_DIR) || rel.startsWith(RsyncPlanner.PARTIAL_DIR + "/")) continue;
            Stat st = e.stat();
            StringBuilder d = new StringBuilder(st.typeName()).append(' ')
                .append(Integer.toOctalString(st.permissions())).append(' ')
                .append(st.uid()).append(':').append(st.gid());
            byte[] abs = BytePaths.join(root, e.relPath());
            if (st.isRegular()) {
                d.append(" size=").append(st.size()).append(" mtime=").append(st.mtimeNs())
                    .append(" sha=").append(sha256(ByteFs.readAll(abs)));
                if (st.nlink() > 1) {
                    String first = firstNameOfInode.putIfAbsent(st.ino(), rel);
                    d.append(" linkgroup=").append(first == null ? rel : first);
                }
            } else if (st.isSymlink()) {
                d.append(" -> ").append(BytePaths.show(ByteFs.readlink(abs))).append(" mtime=").append(st.mtimeNs());
            } else if (st.isDir()) {
                d.append(" mtime=").append(st.mtimeNs());
            }
            out.put(rel, d.toString());
        }
        return out;
    }

    /**
     * The testkit's comparison (names, types, content, modes, owners, links, file mtimes to the ns), then this
     * class's stricter one: directory and symlink mtimes to the nanosecond too, which the executor's
     * {@code --modify-window=-1} delivers.
     */
    static void assertSameTree(byte[] source, byte[] replica) throws IOException {
        TreeDiff.defaults().withNanosecondMtime().withOwner().excluding(RsyncPlanner.PARTIAL_DIR)
            .assertEqual(source, replica);
        assertThat(snapshot(replica)).as("replica %s of %s", BytePaths.show(replica), BytePaths.show(source))
            .isEqualTo(snapshot(source));
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
