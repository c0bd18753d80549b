package io.rtbackup.worker.status;

import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncSummary;
import io.rtbackup.worker.SyncFailure;
import io.rtbackup.worker.SyncListener;
import io.rtbackup.worker.SyncReport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What a worker did lately, per destination: counters, last success, last error and the newest batches and failed
 * attempts. Fed by the pipelines (as a {@link SyncListener}), read by the {@link StatusPublisher}.
 */
public final class SyncHistory implements SyncListener {
    static final int RECENT = 20;

    private final LongSupplier clockMs;
    private final Map<String, PerDestination> byDestination = new ConcurrentHashMap<>();

    public SyncHistory(LongSupplier clockMs) {
        this.clockMs = clockMs;
    }

    /** A consistent copy of one destination's history. */
    public record Snapshot(long syncsOk, long syncsFailed, long lastSuccessMs, long lastErrorMs, String lastError,
                           List<SyncSummary> recent) {
        static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, null, List.of());
    }

    @Override
    public void onBatchFinished(SyncReport r) {
        long now = clockMs.getAsLong();
        boolean ok = r.outcome() == SyncOutcome.OK;
        String error = ok ? null : (r.error() != null ? r.error() : r.outcome() + " (given up, see the DLQ)");
        SyncSummary s = SyncSummary.newBuilder().setFinishedAtMs(now).setHostId(r.hostId()).setRootId(r.rootId())
            .setCommandId(r.commandId()).setFullSync(r.fullSync()).setPaths(r.paths()).setSamplePaths(r.samplePaths())
            .setOutcome(r.outcome().name()).setAttempt(r.attempt()).setBytesSent(Math.max(0, r.bytesSent()))
            .setDurationMs(Math.max(0, r.rsyncDurationMs())).setLatencyMs(r.latencyMs()).setError(error).build();
        of(r.destination()).add(s, ok, now, error);
    }

    @Override
    public void onAttemptFailed(SyncFailure f) {
        long now = clockMs.getAsLong();
        SyncSummary s = SyncSummary.newBuilder().setFinishedAtMs(now).setHostId(f.hostId()).setRootId(f.rootId())
            .setCommandId(f.commandId()).setFullSync(f.fullSync()).setPaths(f.paths()).setSamplePaths(f.samplePaths())
            .setOutcome("RETRYING").setAttempt(f.attempt()).setError(f.reason()).build();
        of(f.destination()).add(s, false, now, f.reason());
    }

    public Snapshot snapshot(String destination) {
        PerDestination d = byDestination.get(destination);
        return d == null ? Snapshot.EMPTY : d.snapshot();
    }

    private PerDestination of(String destination) {
        return byDestination.computeIfAbsent(destination, n -> new PerDestination());
    }

    private static final class PerDestination {
        private final Deque<SyncSummary> recent = new ArrayDeque<>();
        private long ok;
        private long failed;
        private long lastSuccessMs;
        private long lastErrorMs;
        private String lastError;

        synchronized void add(SyncSummary s, boolean success, long now, String error) {
            recent.addFirst(s);
            while (recent.size() > RECENT) recent.removeLast();
            if (success) {
                ok++;
                lastSuccessMs = now;
            } else {
                failed++;
                lastErrorMs = now;
                lastError = error;
            }
        }

        synchronized Snapshot snapshot() {
            return new Snapshot(ok, failed, lastSuccessMs, lastErrorMs, lastError, new ArrayList<>(recent));
        }
    }
}
