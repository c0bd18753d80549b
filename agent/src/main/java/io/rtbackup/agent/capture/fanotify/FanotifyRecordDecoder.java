package io.rtbackup.agent.capture.fanotify;

import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Event;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Fid;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.FidType;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.FileHandle;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Info;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Malformed;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.OtherInfo;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.QueueOverflow;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes what a {@code read()} of a fanotify group returns (linux/fanotify.h, host byte order): events of
 * {@code struct fanotify_event_metadata} (24 bytes: event_len u32, vers u8, reserved u8, metadata_len u16,
 * mask u64, fd s32, pid s32), each followed by info records (type u8, pad u8, len u16, body) up to event_len.
 * The file id records carry fsid (8 bytes), {@code struct file_handle} (handle_bytes u32, handle_type s32,
 * the bytes) and, for the named types, a NUL-terminated name.
 *
 * <p>Never reads outside the given range: an event whose length cannot be trusted ends decoding with a
 * {@link Malformed} that skips the rest; an event that is well framed but wrong inside (metadata length, info
 * record length, file handle size) becomes a {@link Malformed} for that event alone. The caller turns either
 * into a rescan. Unknown info record types are kept as {@link OtherInfo} and otherwise ignored. One thread per
 * decoder.
 */
public final class FanotifyRecordDecoder {
    /** {@code sizeof(struct fanotify_event_metadata)}. */
    public static final int METADATA_BYTES = 24;
    /** {@code MAX_HANDLE_SZ}: the largest file handle the kernel reports. */
    public static final int MAX_HANDLE_BYTES = 128;
    private static final int INFO_HEADER_BYTES = 4;
    private static final byte[] NO_NAME = new byte[0];
    /** Info header, fsid, handle_bytes, handle_type: what precedes the handle's bytes in a file id record. */
    private static final int FID_FIXED_BYTES = INFO_HEADER_BYTES + 8 + 4 + 4;

    private final ByteOrder order;
    /** The info records of the event being decoded; one decoder serves one thread. */
    private Info[] infos = new Info[4];

    /** For bytes read from this machine's kernel. */
    public FanotifyRecordDecoder() {
        this(ByteOrder.nativeOrder());
    }

    public FanotifyRecordDecoder(ByteOrder order) {
        this.order = order;
    }

    public List<FanotifyRecord> decode(byte[] data) {
        return decode(data, 0, data.length);
    }

    /**
     * Decodes every event in {@code data[offset, offset + length)}, which should hold whole events (as one
     * {@code read()} returns them); a cut-off event at the end is reported as {@link Malformed}.
     */
    public List<FanotifyRecord> decode(byte[] data, int offset, int length) {
        ByteBuffer buf = ByteBuffer.wrap(data, offset, length).slice().order(order);
        List<FanotifyRecord> out = new ArrayList<>();
        int off = 0;
        while (off < length) {
            int remaining = length - off;
            if (remaining < METADATA_BYTES) {
                out.add(new Malformed(off, "only " + remaining + " bytes left, event metadata needs "
                        + METADATA_BYTES, true));
                break;
            }
            long eventLen = Integer.toUnsignedLong(buf.getInt(off));
            if (eventLen < METADATA_BYTES || eventLen > remaining) {
                out.add(new Malformed(off, "event length " + eventLen + " with " + remaining + " bytes left", true));
                break;
            }
            out.add(decodeEvent(buf, off, (int) eventLen));
            off += (int) eventLen;
        }
        return out;
    }

    private FanotifyRecord decodeEvent(ByteBuffer buf, int off, int eventLen) {
        long mask = buf.getLong(off + 8);
        // the loss must be reported whatever else is wrong with the event
        if ((mask & FanotifyLib.FAN_Q_OVERFLOW) != 0) return new QueueOverflow();
        int metaLen = Short.toUnsignedInt(buf.getShort(off + 6));
        if (metaLen < METADATA_BYTES || metaLen > eventLen) {
            return new Malformed(off, "metadata length " + metaLen + " in a " + eventLen + "-byte event", false);
        }
        int count = 0;
        int end = off + eventLen;
        for (int i = off + metaLen; i < end; ) {
            if (end - i < INFO_HEADER_BYTES) {
                return new Malformed(off, (end - i) + " stray bytes after the info records", false);
            }
            int type = Byte.toUnsignedInt(buf.get(i));
            int len = Short.toUnsignedInt(buf.getShort(i + 2));
            if (len < INFO_HEADER_BYTES || len > end - i) {
                return new Malformed(off, "info record of type " + type + " has length " + len + " with "
                        + (end - i) + " bytes left in the event", false);
            }
            FidType fidType = FidType.of(type);
            Info info;
            if (fidType == null) {
                info = new OtherInfo(type, len);
            } else {
                String fault = fidFault(buf, i, len);
                if (fault != null) return new Malformed(off, fidType + " record: " + fault, false);
                info = fid(buf, fidType, i, len);
            }
            if (count == infos.length) infos = Arrays.copyOf(infos, count * 2);
            infos[count++] = info;
            i += len;
        }
        // List.of keeps the one or two records (the usual case) without copying them again; Event keeps that list
        return new Event(mask, switch (count) {
            case 0 -> List.of();
            case 1 -> List.of(infos[0]);
            case 2 -> List.of(infos[0], infos[1]);
            default -> List.of(Arrays.copyOf(infos, count));
        });
    }

    /** Why the file id record at {@code i} cannot be read, or null when it can. */
    private static String fidFault(ByteBuffer buf, int i, int len) {
        if (len < FID_FIXED_BYTES) return "length " + len + " is shorter than its fixed part";
        int handleBytes = buf.getInt(i + 12);
        if (handleBytes < 0 || handleBytes > MAX_HANDLE_BYTES || FID_FIXED_BYTES + handleBytes > len) {
            return "file handle of " + Integer.toUnsignedString(handleBytes) + " bytes in a " + len + "-byte record";
        }
        return null;
    }

    private static Fid fid(ByteBuffer buf, FidType type, int i, int len) {
        long fsid = buf.getLong(i + 4);
        int handleBytes = buf.getInt(i + 12);
        int handleType = buf.getInt(i + 16);
        byte[] handle = new byte[handleBytes];
        buf.get(i + FID_FIXED_BYTES, handle);
        byte[] name = NO_NAME;
        if (type.named) {
            // the name runs to its NUL; the record's end bounds it when the NUL is missing
            int start = i + FID_FIXED_BYTES + handleBytes;
            int stop = start;
            while (stop < i + len && buf.get(stop) != 0) stop++;
            name = new byte[stop - start];
            buf.get(start, name);
        }
        return new Fid(type, new FileHandle(fsid, handleType, handle), name);
    }
}
