package io.rtbackup.worker.pipeline;

import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.SyncFailure;
import io.rtbackup.worker.SyncListener;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.commands.Attempt;
import io.rtbackup.worker.metrics.WorkerMetrics;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the outside what became of one destination's batches: the per-batch metrics (command outcomes, retries,
 * sync volume, change-to-replica latency) and the {@link SyncListener} (progress lines, status history). It only
 * watches: a failing listener is logged and never stops the pipeline, as no work depends on it.
 *
 * <p>Single-threaded (the pipeline thread).
 */
final class BatchReports {
    private static final Logger log = LoggerFactory.getLogger(BatchReports.class);
    private static final int SAMPLE_PATHS = 5;

    private final String destination;
    private final WorkerMetrics metrics;
    private final SyncListener listener;

    BatchReports(String destination, WorkerMetrics metrics, SyncListener listener) {
        this.destination = destination;
        this.metrics = metrics;
        this.listener = listener;
    }

    /** An attempt ended; {@code outcome} is a {@code Verdict} outcome label. */
    void attemptEnded(String outcome) {
        metrics.commandResults.labelValues(destination, outcome).inc();
    }

    /** Batch {@code b} was replicated by attempt {@code a}. */
    void synced(Attempt a, Batch b, SyncResult r) {
        metrics.pathsSynced.labelValues(destination).inc(b.fullSync() ? 1 : b.paths().size());
        metrics.eventsSynced.labelValues(destination).inc(b.eventCount());
        metrics.bytesSent.labelValues(destination).inc(Math.max(0, r.getBytesSent()));
        metrics.filesTransferred.labelValues(destination).inc(Math.max(0, r.getFilesTransferred()));
        metrics.rsyncDuration.labelValues(destination).observe(Math.max(0, r.getDurationMs()) / 1000.0);
        long latencyMs = -1;
        OptionalLong oldest = b.oldestEventTimeNs();
        if (oldest.isPresent() && r.getFinishedAtMs() > 0) {
            latencyMs = Math.max(0, r.getFinishedAtMs() - oldest.getAsLong() / 1_000_000);
            metrics.changeToReplica.labelValues(destination).observe(latencyMs / 1000.0);
        }
        log.debug("destination {}: {} synced by command {} (attempt {}), {} bytes sent in {} ms", destination, b,
            a.commandId(), a.number(), r.getBytesSent(), r.getDurationMs());
        finished(a, b, r, latencyMs);
    }

    /** Batch {@code b} was given up (to the DLQ) after attempt {@code a}. */
    void givenUp(Attempt a, Batch b, SyncResult r) {
        finished(a, b, r, -1);
    }

    /** Attempt {@code a} failed ({@code why}); its batch goes out again later. */
    void retrying(Attempt a, String why) {
        metrics.retries.labelValues(destination).inc();
        Batch b = a.batch();
        tell(() -> listener.onAttemptFailed(new SyncFailure(destination, b.key().host(), b.key().root(), a.commandId(),
            b.fullSync(), b.paths().size(), sample(b), a.number(), why)));
    }

    private void finished(Attempt a, Batch b, SyncResult r, long latencyMs) {
        tell(() -> listener.onBatchFinished(new SyncReport(destination, b.key().host(), b.key().root(), a.commandId(),
            b.fullSync(), b.paths().size(), sample(b), b.eventCount(), a.number(), r.getOutcome(), r.getBytesSent(),
            r.getFilesTransferred(), r.getDurationMs(), latencyMs, r.getError())));
    }

    private void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("destination {}: sync listener failed: {}", destination, e.toString());
        }
    }

    private static List<String> sample(Batch b) {
        return b.paths().stream().limit(SAMPLE_PATHS).map(PathKey::show).toList();
    }

    /** Every path of {@code b} for a debug line, rendered only when the line is logged. */
    static Object allPaths(Batch b) {
        return new Object() {
            @Override
            public String toString() {
                return b.fullSync() ? "whole root" : b.paths().stream().map(PathKey::show).toList().toString();
            }
        };
    }
}
