package io.rtbackup.worker.pipeline;

/**
 * A snapshot of one destination's pipeline (refreshed a few times per second).
 *
 * @param breakerState  resilience4j state name: CLOSED, OPEN, HALF_OPEN
 * @param lagEvents     events consumed or waiting in Kafka that are not yet durable on the destination
 */
public record PipelineStatus(String destination, boolean ready, String breakerState, boolean paused,
                             int pendingPaths, int commandsInFlight, int commandsWaitingForRetry, long lagEvents,
                             int assignedPartitions) {
}
