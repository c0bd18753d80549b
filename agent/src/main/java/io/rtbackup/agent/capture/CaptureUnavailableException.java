package io.rtbackup.agent.capture;

/** A capture source cannot run on this host; the message says why and what to do about it. */
public class CaptureUnavailableException extends Exception {
    public CaptureUnavailableException(String message) {
        super(message);
    }

    public CaptureUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
