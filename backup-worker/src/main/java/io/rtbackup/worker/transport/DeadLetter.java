package io.rtbackup.worker.transport;

/**
 * A record the worker gives up on, with why. For an event: its raw key and value and where it came from. For a
 * command: the encoded {@code SyncCommand} (key = host id) and the agent's reason.
 *
 * @param kind one of the {@code KIND_*} constants
 */
public record DeadLetter(String kind, String reason, String destination, byte[] key, byte[] value,
                         String sourceTopic, int sourcePartition, long sourceOffset, String commandId) {
    public static final String KIND_UNDECODABLE_EVENT = "undecodable-event";
    public static final String KIND_INVALID_EVENT = "invalid-event";
    public static final String KIND_REJECTED_COMMAND = "rejected-command";
    public static final String KIND_PARTIAL_COMMAND = "partial-command";
    /** An event or result not signed by the host it names (see {@code RecordAuthenticity}). */
    public static final String KIND_UNAUTHENTICATED_EVENT = "unauthenticated-event";
    public static final String KIND_UNAUTHENTICATED_RESULT = "unauthenticated-result";

    /** Header names on {@code rtb.dlq} records; values are UTF-8 text. */
    public static final String H_KIND = "rtb.dlq.kind";
    public static final String H_REASON = "rtb.dlq.reason";
    public static final String H_DESTINATION = "rtb.dlq.destination";
    public static final String H_WORKER = "rtb.dlq.worker";
    public static final String H_SOURCE_TOPIC = "rtb.dlq.source.topic";
    public static final String H_SOURCE_PARTITION = "rtb.dlq.source.partition";
    public static final String H_SOURCE_OFFSET = "rtb.dlq.source.offset";
    public static final String H_COMMAND_ID = "rtb.dlq.command-id";

    public static DeadLetter event(String kind, String reason, String destination, String topic, int partition,
                                   long offset, byte[] key, byte[] value) {
        return new DeadLetter(kind, reason, destination, key, value, topic, partition, offset, null);
    }

    public static DeadLetter command(String kind, String reason, String destination, String commandId, byte[] key,
                                     byte[] encodedCommand) {
        return new DeadLetter(kind, reason, destination, key, encodedCommand, null, -1, -1, commandId);
    }
}
