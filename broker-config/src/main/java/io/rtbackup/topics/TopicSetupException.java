package io.rtbackup.topics;

/** The topics cannot be created or do not match the catalog; the message names the topic and the setting. */
public class TopicSetupException extends RuntimeException {
    public TopicSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
