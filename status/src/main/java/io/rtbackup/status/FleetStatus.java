package io.rtbackup.status;

import java.util.List;
import java.util.Optional;

/**
 * What {@code rtb status} and the status page show: per destination the lag of its consumer group on the events
 * topic, what its workers report, and per (host, root) the lag and the last success and error.
 *
 * @param takenAtMs   when the snapshot was read (this process's clock)
 * @param eventsTopic the events topic the lag is measured on
 * @param switches    the pause switch of every (host, root) an agent or an operator named, by host and root
 */
public record FleetStatus(long takenAtMs, String eventsTopic, List<DestinationStatus> destinations,
                          List<RootSwitch> switches) {

    public FleetStatus {
        destinations = List.copyOf(destinations);
        switches = List.copyOf(switches);
    }

    /** A snapshot without switch positions (none read). */
    public FleetStatus(long takenAtMs, String eventsTopic, List<DestinationStatus> destinations) {
        this(takenAtMs, eventsTopic, destinations, List.of());
    }

    /**
     * The pause switch of one root: what its agent last reported ({@code RootControlState}) and the operator's
     * latest command for it ({@code ControlCommand}).
     *
     * @param paused       whether the agent has the root paused (false when it never reported)
     * @param sinceMs      when the pause began; 0 when not paused
     * @param note         what the agent said when it applied the last command (e.g. what a resume caught up)
     * @param reportedAtMs when the agent reported it (agent clock); 0 when it never did
     * @param requested    the latest command's action (PAUSE, RESUME) or "" when no command was ever given
     * @param requestedAtMs when it was issued (issuer clock); 0 when none
     * @param pending      whether the latest command is not yet applied (agent down, or working on it)
     */
    public record RootSwitch(String host, String root, boolean paused, long sinceMs, String reason, String issuedBy,
                             String note, long reportedAtMs, String requested, long requestedAtMs, String requestedBy,
                             boolean pending) {
    }

    public Optional<DestinationStatus> destination(String name) {
        return destinations.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    /**
     * One destination.
     *
     * @param lagEvents          events on the events topic after the group's committed offsets, i.e. not yet
     *                           durable on the destination. A partition without a committed offset counts from the
     *                           log start, because that is where the worker starts it (auto.offset.reset=none,
     *                           replay from the beginning).
     * @param lagSeconds         age of the oldest of those events (record timestamp); 0 when there is no lag
     * @param oldestUnconsumedMs timestamp of that event, 0 when there is no lag
     * @param committed          whether the group has committed any offset on the events topic yet
     * @param breakerState       the worst circuit-breaker state its live workers report (OPEN, HALF_OPEN, CLOSED),
     *                           or UNKNOWN when no live worker reports this destination
     * @param lastSuccessMs      newest successful sync (worker records and recent results); 0 when none seen
     * @param lastErrorMs        newest failure; 0 when none seen
     * @param recentSyncs        newest first, across workers
     * @param stuckPaths         source paths their hosts could not read, as the live workers hold them, by host,
     *                           root and path
     */
    public record DestinationStatus(String name, String consumerGroup, long lagEvents, double lagSeconds,
                                    long oldestUnconsumedMs, boolean committed, String breakerState, boolean paused,
                                    long syncsOk, long syncsFailed, long lastSuccessMs, long lastErrorMs,
                                    String lastError, List<WorkerView> workers, List<RootStatus> roots,
                                    List<RecentSync> recentSyncs, List<StuckPath> stuckPaths) {
        public DestinationStatus {
            workers = List.copyOf(workers);
            roots = List.copyOf(roots);
            recentSyncs = List.copyOf(recentSyncs);
            stuckPaths = List.copyOf(stuckPaths);
        }

        /** A destination without stuck paths. */
        public DestinationStatus(String name, String consumerGroup, long lagEvents, double lagSeconds,
                                 long oldestUnconsumedMs, boolean committed, String breakerState, boolean paused,
                                 long syncsOk, long syncsFailed, long lastSuccessMs, long lastErrorMs,
                                 String lastError, List<WorkerView> workers, List<RootStatus> roots,
                                 List<RecentSync> recentSyncs) {
            this(name, consumerGroup, lagEvents, lagSeconds, oldestUnconsumedMs, committed, breakerState, paused,
                syncsOk, syncsFailed, lastSuccessMs, lastErrorMs, lastError, workers, roots, recentSyncs, List.of());
        }
    }

    /**
     * A source path its host could not read (the agent's reason, e.g. "send_files failed to open: Permission denied
     * (13)"): left out of its syncs, retried at a slow pace, its events uncommitted, until it arrives or is gone.
     *
     * @param path     root-relative, printable ({@code \xNN} escapes)
     * @param sinceMs  when a worker first found it stuck (worker clock)
     * @param attempts how many results reported it stuck
     */
    public record StuckPath(String host, String root, String path, String reason, long sinceMs, int attempts,
                            String workerId) {
    }

    /** One worker's latest record for a destination; stale when older than three of its publish intervals. */
    public record WorkerView(String workerId, long publishedAtMs, boolean stale, boolean ready, String breakerState,
                             boolean paused, int pendingPaths, int commandsInFlight, int commandsWaitingForRetry,
                             int assignedPartitions, long lagEvents) {
    }

    /**
     * One (host, root) routed to a destination.
     *
     * @param lagEvents    unconsumed events of this pair among those read (see {@code lagComplete})
     * @param lagComplete  false when a partition's backlog was longer than the scan limit, so the count is a
     *                     lower bound (the destination's total {@code lagEvents} is always exact)
     * @param lastReconcile the newest reconciliation of this (host, root) with the destination among the recent
     *                     results; null when none is among them
     */
    public record RootStatus(String host, String root, long lagEvents, boolean lagComplete, double lagSeconds,
                             long lastSuccessMs, long lastErrorMs, String lastError, Reconcile lastReconcile) {
    }

    /**
     * A reconciliation: the agent's periodic whole-root rsync of a root to a destination. Non-zero
     * {@code differences} means capture or delivery missed something (or the replica was changed by hand), which
     * the reconciliation repaired.
     *
     * @param outcome     OK, PARTIAL, FAILED or REJECTED
     * @param differences regular files transferred plus entries deleted
     * @param error       why it failed; null when OK
     */
    public record Reconcile(long finishedAtMs, String outcome, long differences, long durationMs, String error) {
    }

    /** A finished batch or a failed attempt, as a worker reported it. Paths are printable ({@code \xNN} escapes). */
    public record RecentSync(long finishedAtMs, String workerId, String host, String root, String outcome,
                             boolean fullSync, int paths, List<String> samplePaths, int attempt, long bytesSent,
                             long durationMs, long latencyMs, String error) {
        public RecentSync {
            samplePaths = List.copyOf(samplePaths);
        }
    }
}
