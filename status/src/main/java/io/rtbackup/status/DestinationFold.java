package io.rtbackup.status;

import io.rtbackup.schema.Reconciliations;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.StuckPathStatus;
import io.rtbackup.schema.SyncSummary;
import io.rtbackup.schema.WorkerStatus;
import io.rtbackup.status.FleetStatus.DestinationStatus;
import io.rtbackup.status.FleetStatus.RecentSync;
import io.rtbackup.status.FleetStatus.RootStatus;
import io.rtbackup.status.FleetStatus.StuckPath;
import io.rtbackup.status.FleetStatus.WorkerView;
import io.rtbackup.topics.DestinationGroup;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Folds what was read about one destination into its {@link DestinationStatus}; no I/O, so every rule of what the
 * status shows is here:
 * <ul>
 *   <li>a worker record is stale when older than three of its publish intervals plus 5 s; stale records still
 *       count for syncs and errors, but not for pause and breaker state;</li>
 *   <li>the breaker state is the worst of the live workers' (OPEN over HALF_OPEN over CLOSED), UNKNOWN when no
 *       live worker reports;</li>
 *   <li>last success and last error are the newest among worker records and results; per (host, root) they also
 *       come from the workers' recent syncs;</li>
 *   <li>the last reconciliation per (host, root) is the newest result encoded as one ({@link Reconciliations});
 *       it counts as a success or an error like any other result (an OK one found the replica in sync or made
 *       it so);</li>
 *   <li>recent syncs are the newest {@value #RECENT_SYNCS} across workers;</li>
 *   <li>stuck paths are the live workers' (a stale record's are dropped: its partitions went to another worker,
 *       which finds them stuck again), by host, root and path;</li>
 *   <li>lag in seconds is the age of the oldest unconsumed event, 0 without lag.</li>
 * </ul>
 */
final class DestinationFold {
    static final int RECENT_SYNCS = 20;

    private DestinationFold() {}

    /**
     * @param lag        exact unconsumed events of the destination's group
     * @param hasCommits whether the group committed any offset on the events topic
     * @param backlog    the unconsumed events read (consumed by this call: its tallies are updated)
     * @param records    the latest worker records of this destination
     * @param results    recent results of all destinations (others are skipped)
     * @param now        the snapshot's time
     */
    static DestinationStatus fold(String name, long lag, boolean hasCommits, Backlog backlog,
                                  List<WorkerStatus> records, List<SyncResult> results, long now) {
        Map<RootTally.Key, RootTally> roots = new TreeMap<>(RootTally.Key.ORDER);
        roots.putAll(backlog.roots());
        long lastSuccess = 0;
        long lastErrorMs = 0;
        String lastError = null;
        long ok = 0;
        long failed = 0;
        boolean paused = false;
        String breaker = null;
        List<WorkerView> workers = new ArrayList<>();
        List<RecentSync> recent = new ArrayList<>();
        List<StuckPath> stuck = new ArrayList<>();
        for (WorkerStatus w : records) {
            boolean stale = now - w.getPublishedAtMs() > 3 * w.getIntervalMs() + 5_000;
            workers.add(new WorkerView(w.getWorkerId(), w.getPublishedAtMs(), stale, w.getReady(), w.getBreakerState(),
                w.getPaused(), w.getPendingPaths(), w.getCommandsInFlight(), w.getCommandsWaitingForRetry(),
                w.getAssignedPartitions(), w.getLagEvents()));
            if (!stale) {
                paused |= w.getPaused();
                breaker = worse(breaker, w.getBreakerState());
                List<StuckPathStatus> held = w.getStuckPaths() == null ? List.of() : w.getStuckPaths();
                for (StuckPathStatus p : held) {
                    stuck.add(new StuckPath(p.getHostId(), p.getRootId(), p.getPath(), p.getReason(), p.getSinceMs(),
                        p.getAttempts(), w.getWorkerId()));
                }
            }
            ok += w.getSyncsOk();
            failed += w.getSyncsFailed();
            lastSuccess = Math.max(lastSuccess, w.getLastSuccessMs());
            if (w.getLastError() != null && w.getLastErrorMs() >= lastErrorMs) {
                lastErrorMs = w.getLastErrorMs();
                lastError = w.getLastError();
            }
            for (SyncSummary s : w.getRecentSyncs()) {
                recent.add(new RecentSync(s.getFinishedAtMs(), w.getWorkerId(), s.getHostId(), s.getRootId(),
                    s.getOutcome(), s.getFullSync(), s.getPaths(), s.getSamplePaths(), s.getAttempt(), s.getBytesSent(),
                    s.getDurationMs(), s.getLatencyMs(), s.getError()));
                RootTally t = roots.computeIfAbsent(new RootTally.Key(s.getHostId(), s.getRootId()), k -> new RootTally());
                if (s.getOutcome().equals(SyncOutcome.OK.name())) t.success(s.getFinishedAtMs());
                else t.error(s.getFinishedAtMs(), s.getError() == null ? s.getOutcome() : s.getError());
            }
        }
        for (SyncResult r : results) {
            if (!r.getDestination().equals(name)) continue;
            RootTally t = roots.computeIfAbsent(new RootTally.Key(r.getHostId(), r.getRootId()), k -> new RootTally());
            Reconciliations.differences(r).ifPresent(n -> t.reconciled(new FleetStatus.Reconcile(r.getFinishedAtMs(),
                r.getOutcome().name(), n, r.getDurationMs(), r.getError())));
            if (r.getOutcome() == SyncOutcome.OK) {
                t.success(r.getFinishedAtMs());
                lastSuccess = Math.max(lastSuccess, r.getFinishedAtMs());
            } else {
                String why = r.getOutcome() + ": " + (r.getError() != null ? r.getError() : "rsync exit code " + r.getExitCode());
                t.error(r.getFinishedAtMs(), why);
                if (r.getFinishedAtMs() >= lastErrorMs) {
                    lastErrorMs = r.getFinishedAtMs();
                    lastError = why;
                }
            }
        }
        recent.sort(Comparator.comparingLong(RecentSync::finishedAtMs).reversed());
        if (recent.size() > RECENT_SYNCS) recent = new ArrayList<>(recent.subList(0, RECENT_SYNCS));
        List<RootStatus> rootStatus = new ArrayList<>();
        roots.forEach((k, t) -> rootStatus.add(new RootStatus(k.host(), k.root(), t.lag, backlog.complete(),
            t.lag == 0 || t.oldestMs == Long.MAX_VALUE ? 0 : seconds(now - t.oldestMs), t.lastSuccessMs, t.lastErrorMs,
            t.lastError, t.lastReconcile)));
        long oldest = lag == 0 || backlog.oldestMs() == Long.MAX_VALUE ? 0 : backlog.oldestMs();
        return new DestinationStatus(name, DestinationGroup.of(name), lag, oldest == 0 ? 0 : seconds(now - oldest),
            oldest, hasCommits, breaker == null ? "UNKNOWN" : breaker, paused, ok, failed, lastSuccess, lastErrorMs,
            lastError, workers, rootStatus, recent, stuck.stream().sorted(Comparator.comparing(StuckPath::host)
                .thenComparing(StuckPath::root).thenComparing(StuckPath::path)).toList());
    }

    private static double seconds(long ms) {
        return Math.max(0, ms) / 1000.0;
    }

    private static String worse(String a, String b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(String state) {
        if (state == null) return -1;
        return switch (state) {
            case "CLOSED" -> 0;
            case "HALF_OPEN" -> 1;
            case "OPEN", "FORCED_OPEN" -> 2;
            default -> 1;
        };
    }
}
