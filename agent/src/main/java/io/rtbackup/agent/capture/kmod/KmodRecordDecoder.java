package io.rtbackup.agent.capture.kmod;

import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.schema.FileOp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the records of {@code kmod/rtbackup_uapi.h}: a 64-byte header (host byte order), the path, a NUL, the
 * second path, a NUL, zero padding to a multiple of 8. Written against that header; change both together.
 */
public final class KmodRecordDecoder {
    public static final int HEADER_BYTES = 64;
    public static final int RECORD_VERSION = 1;
    private static final int F_DIR = 0x1;

    private final ByteOrder order;

    /** For records read from this machine's kernel. */
    public KmodRecordDecoder() {
        this(ByteOrder.nativeOrder());
    }

    public KmodRecordDecoder(ByteOrder order) {
        this.order = order;
    }

    public List<KmodRecord> decode(byte[] data) {
        return decode(data, 0, data.length);
    }

    /**
     * Decodes every record in {@code data[offset, offset + length)}, which must hold whole records (as one
     * {@code read()} returns them).
     *
     * @throws KmodProtocolException naming the offset when the bytes are not valid records
     */
    public List<KmodRecord> decode(byte[] data, int offset, int length) {
        ByteBuffer buf = ByteBuffer.wrap(data, offset, length).slice().order(order);
        List<KmodRecord> out = new ArrayList<>();
        int pos = 0;
        while (pos < length) {
            out.add(decodeOne(buf, pos, length - pos));
            pos += buf.getInt(pos);
        }
        return out;
    }

    private KmodRecord decodeOne(ByteBuffer buf, int pos, int remaining) {
        if (remaining < HEADER_BYTES) {
            throw new KmodProtocolException(pos, "only " + remaining + " bytes left, a header needs " + HEADER_BYTES);
        }
        long size = Integer.toUnsignedLong(buf.getInt(pos));
        int version = Short.toUnsignedInt(buf.getShort(pos + 4));
        int opCode = Short.toUnsignedInt(buf.getShort(pos + 6));
        if (version != RECORD_VERSION) {
            throw new KmodProtocolException(pos, "record version " + version + ", this agent reads version "
                    + RECORD_VERSION + ": install the agent and module of the same release");
        }
        if (size < HEADER_BYTES + 2 || size % 8 != 0 || size > remaining) {
            throw new KmodProtocolException(pos, "bad record size " + size + " (" + remaining + " bytes left)");
        }
        KmodOp op = KmodOp.of(opCode)
                .orElseThrow(() -> new KmodProtocolException(pos, "unknown op " + opCode));
        long seq = buf.getLong(pos + 8);
        long timeNs = buf.getLong(pos + 16);
        long inode = buf.getLong(pos + 24);
        long dropped = buf.getLong(pos + 32);
        int dev = buf.getInt(pos + 40);
        int flags = buf.getInt(pos + 44);
        int pid = buf.getInt(pos + 48);
        int uid = buf.getInt(pos + 52);
        int pathLen = Short.toUnsignedInt(buf.getShort(pos + 56));
        int path2Len = Short.toUnsignedInt(buf.getShort(pos + 58));
        int namesEnd = HEADER_BYTES + pathLen + 1 + path2Len + 1;
        if (namesEnd > size) {
            throw new KmodProtocolException(pos, "names (" + pathLen + " + " + path2Len + " bytes) overrun size " + size);
        }
        if (buf.get(pos + HEADER_BYTES + pathLen) != 0 || buf.get(pos + namesEnd - 1) != 0) {
            throw new KmodProtocolException(pos, "path not NUL-terminated");
        }
        byte[] path = new byte[pathLen];
        buf.get(pos + HEADER_BYTES, path);
        byte[] path2 = new byte[path2Len];
        buf.get(pos + HEADER_BYTES + pathLen + 1, path2);
        return new KmodRecord(op, (flags & F_DIR) != 0, seq, timeNs, inode, dropped, dev, pid, uid, path, path2);
    }

    /** What the capture layer makes of a record (the normaliser maps the absolute paths onto roots). */
    public static RawChange toRawChange(KmodRecord r) {
        long t = r.timeNs();
        return switch (r.op()) {
            case CREATE -> path(FileOp.CREATE, r);
            case MODIFY -> path(FileOp.MODIFY, r);
            case CLOSE_WRITE -> path(FileOp.CLOSE_WRITE, r);
            case DELETE -> path(FileOp.DELETE, r);
            case ATTRIB -> path(FileOp.ATTRIB, r);
            case MKDIR -> path(FileOp.MKDIR, r);
            case RMDIR -> path(FileOp.RMDIR, r);
            case LINK -> path(FileOp.LINK, r);
            case SYMLINK -> path(FileOp.SYMLINK, r);
            // a half outside the watched mount comes empty: rescanning the other name is always correct
            case RENAME -> r.path().length == 0 ? new RawChange.Rescan(r.path2(), t)
                    : r.path2().length == 0 ? new RawChange.Rescan(r.path(), t)
                    : new RawChange.Rename(r.path(), r.path2(), r.directory(), t);
            case OVERFLOW -> new RawChange.Overflow(null, r.dropped(), t);
        };
    }

    private static RawChange path(FileOp op, KmodRecord r) {
        return new RawChange.PathChange(op, r.path(), r.directory(), r.timeNs(),
                r.inode() == 0 ? RawChange.PathChange.NO_INODE : r.inode());
    }
}
