package io.rtbackup.status;

/** The status cannot be read: Kafka is unreachable, or a topic is missing. The message says which and where. */
public final class StatusUnavailableException extends Exception {
    public StatusUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
