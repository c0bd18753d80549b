package io.rtbackup.agent.capture.fanotify;

import io.rtbackup.fs.BytePaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * One item decoded from the bytes a {@code read()} of a fanotify group returns ({@link FanotifyRecordDecoder}):
 * an event with its info records, the kernel's queue-overflow event, or bytes that do not form an event. Names
 * and file handles are raw bytes, copied in and out, so every record is immutable.
 */
public sealed interface FanotifyRecord {

    /** An event: its {@code mask} ({@code FAN_*} bits) and its info records in the order the kernel wrote them. */
    record Event(long mask, List<Info> infos) implements FanotifyRecord {
        public Event {
            infos = List.copyOf(infos);
        }
    }

    /** {@code FAN_Q_OVERFLOW}: the kernel queue was full and events were lost. */
    record QueueOverflow() implements FanotifyRecord {}

    /**
     * Bytes that are not a valid event, at {@code offset} in the decoded range. When {@code restSkipped}, the
     * event's own length could not be trusted, so nothing after {@code offset} was decoded; otherwise only this
     * one event was skipped and decoding went on after it.
     */
    record Malformed(int offset, String reason, boolean restSkipped) implements FanotifyRecord {}

    /** The info record types whose body is a file id ({@code struct fanotify_event_info_fid}). */
    enum FidType {
        FID(FanotifyLib.INFO_FID, false),
        DFID_NAME(FanotifyLib.INFO_DFID_NAME, true),
        DFID(FanotifyLib.INFO_DFID, false),
        OLD_DFID_NAME(FanotifyLib.INFO_OLD_DFID_NAME, true),
        NEW_DFID_NAME(FanotifyLib.INFO_NEW_DFID_NAME, true);

        final int code;
        /** Whether a NUL-terminated name follows the handle. */
        final boolean named;

        FidType(int code, boolean named) {
            this.code = code;
            this.named = named;
        }

        /** values() copies the array at every call, and this runs for every info record. */
        private static final FidType[] ALL = values();

        static FidType of(int code) {
            for (FidType t : ALL) {
                if (t.code == code) return t;
            }
            return null;
        }

        public boolean named() {
            return named;
        }
    }

    /** One info record of an event. */
    sealed interface Info {}

    /**
     * A file id record: the filesystem and handle of an object (or, for the {@code DFID*} types, of its parent
     * directory) and, for the named types, the entry's name within that directory: empty or {@code "."} means
     * the directory itself. {@code name} is empty for the unnamed types.
     */
    record Fid(FidType type, FileHandle handle, byte[] name) implements Info {
        private static final byte[] NO_NAME = new byte[0];

        public Fid {
            // Arrays.copyOf, not clone(): the agent's C1-only JIT calls into the VM for an array clone
            name = name.length == 0 ? NO_NAME : Arrays.copyOf(name, name.length);
        }

        @Override
        public byte[] name() {
            return name.clone();
        }

        /** The name itself, not a copy, for the capture path (one event after another): callers never change it. */
        byte[] rawName() {
            return name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Fid f && f.type == type && f.handle.equals(handle) && Arrays.equals(f.name, name);
        }

        @Override
        public int hashCode() {
            return handle.hashCode() * 31 + Arrays.hashCode(name);
        }

        @Override
        public String toString() {
            return type + " " + handle + (type.named ? " name=" + BytePaths.show(name) : "");
        }
    }

    /** An info record of a type this agent does not read (pidfd, error, range...), skipped whole. */
    record OtherInfo(int type, int length) implements Info {}

    /**
     * A file handle as {@code open_by_handle_at} takes it ({@code struct file_handle}: size, type, bytes), with
     * the id of the filesystem it belongs to.
     */
    record FileHandle(long fsid, int handleType, byte[] bytes) {
        public FileHandle {
            bytes = Arrays.copyOf(bytes, bytes.length);
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        /** The bytes themselves, not a copy, for the capture path: callers never change them. */
        byte[] raw() {
            return bytes;
        }

        /** fsid, type and bytes in one byte string: equal for the same object, whichever event named it. */
        public byte[] key() {
            return ByteBuffer.allocate(12 + bytes.length).order(ByteOrder.nativeOrder()).putLong(fsid)
                    .putInt(handleType).put(bytes).array();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileHandle h && h.fsid == fsid && h.handleType == handleType
                    && Arrays.equals(h.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(fsid) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "fsid=" + Long.toHexString(fsid) + " handle=" + handleType + ":" + bytes.length + "B";
        }
    }
}
