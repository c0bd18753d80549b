package io.rtbackup.agent.capture.kmod;

import java.util.Arrays;

/**
 * One record read from {@code /dev/rtbackup} ({@code struct rtb_record} and its names). Paths are the raw
 * bytes the kernel reported; {@code path2} is the new name of a RENAME and empty otherwise. The arrays are
 * copied in and out, so a record is immutable.
 */
public record KmodRecord(KmodOp op, boolean directory, long seq, long timeNs, long inode, long dropped,
                         int dev, int pid, int uid, byte[] path, byte[] path2) {

    public KmodRecord {
        path = path.clone();
        path2 = path2.clone();
    }

    @Override
    public byte[] path() {
        return path.clone();
    }

    @Override
    public byte[] path2() {
        return path2.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KmodRecord r && r.op == op && r.directory == directory && r.seq == seq
                && r.timeNs == timeNs && r.inode == inode && r.dropped == dropped && r.dev == dev
                && r.pid == pid && r.uid == uid && Arrays.equals(r.path, path) && Arrays.equals(r.path2, path2);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + Arrays.hashCode(path);
    }

    /** One line for logs and the dump tool: op, flags and escaped names (never raw bytes). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append('#').append(seq).append(' ').append(op);
        if (directory) sb.append(" dir");
        if (op == KmodOp.OVERFLOW) return sb.append(" dropped=").append(dropped).toString();
        sb.append(' ').append(PathDisplay.show(path));
        if (op == KmodOp.RENAME) sb.append(" -> ").append(PathDisplay.show(path2));
        return sb.append(" ino=").append(inode).append(" pid=").append(pid).append(" uid=").append(uid).toString();
    }
}
