package io.rtbackup.agent.capture.kmod;

/** Bytes from the device that do not form valid records; the message names the byte offset and the fault. */
public class KmodProtocolException extends RuntimeException {
    private final long offset;

    public KmodProtocolException(long offset, String message) {
        super("rtbackup record at byte " + offset + ": " + message);
        this.offset = offset;
    }

    public long offset() {
        return offset;
    }
}
