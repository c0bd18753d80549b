package io.rtbackup.worker.pipeline;

import io.rtbackup.worker.resilience.HostQuarantine;
import io.rtbackup.worker.stuck.StuckPaths;
import java.util.List;

/**
 * A snapshot of one destination's pipeline (refreshed a few times per second).
 *
 * @param breakerState  resilience4j state name: CLOSED, OPEN, HALF_OPEN
 * @param lagEvents     events consumed or waiting in Kafka that are not yet durable on the destination
 * @param quarantinedHosts source hosts whose commands wait because they did not answer or failed on their side
 * @param stuckPaths    source paths their hosts could not read, retried at a slow pace
 */
public record PipelineStatus(String destination, boolean ready, String breakerState, boolean paused,
                             int pendingPaths, int commandsInFlight, int commandsWaitingForRetry, long lagEvents,
                             int assignedPartitions, List<HostQuarantine.Quarantined> quarantinedHosts,
                             List<StuckPaths.View> stuckPaths) {
    public PipelineStatus {
        quarantinedHosts = List.copyOf(quarantinedHosts);
        stuckPaths = List.copyOf(stuckPaths);
    }
}
