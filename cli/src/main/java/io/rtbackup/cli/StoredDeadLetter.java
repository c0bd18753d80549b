package io.rtbackup.cli;

import io.rtbackup.worker.transport.DeadLetter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * One record of the DLQ topic as the worker's {@code KafkaTransport} wrote it: the {@link DeadLetter} headers
 * (kind, reason, destination, worker, where an event came from, a command's id) and the original key and value.
 * A header the record lacks is null; so are the source partition and offset of a command's letter.
 *
 * @param timestampMs when Kafka stored the letter
 */
record StoredDeadLetter(int partition, long offset, long timestampMs, String kind, String reason, String destination,
                        String worker, String sourceTopic, Integer sourcePartition, Long sourceOffset,
                        String commandId, byte[] key, byte[] value) {

    static StoredDeadLetter from(ConsumerRecord<byte[], byte[]> r) {
        Headers h = r.headers();
        String sourcePartition = text(h, DeadLetter.H_SOURCE_PARTITION);
        String sourceOffset = text(h, DeadLetter.H_SOURCE_OFFSET);
        return new StoredDeadLetter(r.partition(), r.offset(), r.timestamp(), text(h, DeadLetter.H_KIND),
            text(h, DeadLetter.H_REASON), text(h, DeadLetter.H_DESTINATION), text(h, DeadLetter.H_WORKER),
            text(h, DeadLetter.H_SOURCE_TOPIC), parseInt(sourcePartition), parseLong(sourceOffset),
            text(h, DeadLetter.H_COMMAND_ID), r.key(), r.value());
    }

    /** A letter for a command (rejected or partial) rather than for an event. */
    boolean isCommand() {
        return DeadLetter.KIND_REJECTED_COMMAND.equals(kind) || DeadLetter.KIND_PARTIAL_COMMAND.equals(kind);
    }

    private static String text(Headers h, String name) {
        Header last = h.lastHeader(name);
        return last == null || last.value() == null ? null : new String(last.value(), StandardCharsets.UTF_8);
    }

    private static Integer parseInt(String s) {
        try {
            return s == null ? null : Integer.valueOf(s);
        } catch (NumberFormatException e) {
            return null; // a header not written by a worker: shown as unknown
        }
    }

    private static Long parseLong(String s) {
        try {
            return s == null ? null : Long.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
