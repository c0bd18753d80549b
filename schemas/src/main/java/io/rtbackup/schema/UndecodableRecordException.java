package io.rtbackup.schema;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record's bytes are not a message of any schema version we know: random bytes, a foreign format, a record
 * written with a schema whose fingerprint no stored version has, or a truncated/corrupt body.
 *
 * <p>Callers route the raw record to {@code rtb.dlq} and go on; it never means the consumer loop must stop.
 */
public class UndecodableRecordException extends SerializationException {
    private final String schemaName;

    public UndecodableRecordException(String schemaName, String message, Throwable cause) {
        super("cannot decode a " + schemaName + " record: " + message, cause);
        this.schemaName = schemaName;
    }

    /** The schema the caller expected, e.g. {@code FileEvent}. */
    public String schemaName() {
        return schemaName;
    }
}
