package io.rtbackup.worker.status;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.StuckPathStatus;
import io.rtbackup.schema.WorkerStatus;
import io.rtbackup.worker.pipeline.PipelineStatus;
import io.rtbackup.worker.transport.StatusSink;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one {@link WorkerStatus} per destination every interval to the compacted status topic. Breaker state,
 * pause, stuck paths and the last error exist only in the worker's memory; this is how {@code rtb status} and the status page
 * of another process see them. On close it writes tombstones, so a worker that stopped cleanly disappears.
 */
public final class StatusPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusPublisher.class);

    /** Stuck paths per record at most, so that a mass of them cannot outgrow a record (the metric counts all). */
    static final int MAX_STUCK_PATHS = 100;

    private final String workerId;
    private final Duration interval;
    private final Supplier<Map<String, PipelineStatus>> pipelines;
    private final SyncHistory history;
    private final StatusSink sink;
    private final LongSupplier clockMs;
    private final AvroCodec<WorkerStatus> codec = AvroCodec.workerStatus();
    private final ScheduledExecutorService timer;

    public StatusPublisher(String workerId, Duration interval, Supplier<Map<String, PipelineStatus>> pipelines,
                           SyncHistory history, StatusSink sink, LongSupplier clockMs) {
        this.workerId = workerId;
        this.interval = interval;
        this.pipelines = pipelines;
        this.history = history;
        this.sink = sink;
        this.clockMs = clockMs;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rtb-worker-status");
            t.setDaemon(true);
            return t;
        });
    }

    /** The record key: one per worker and destination, so compaction keeps the latest of each. */
    public static String key(String workerId, String destination) {
        return workerId + "/" + destination;
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::publishQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void publishQuietly() {
        try {
            publish();
        } catch (RuntimeException e) {
            log.warn("worker {}: status not published: {}", workerId, e.toString());
        }
    }

    /** Builds and sends the current record of every destination. */
    public void publish() {
        long now = clockMs.getAsLong();
        for (PipelineStatus p : pipelines.get().values()) {
            SyncHistory.Snapshot h = history.snapshot(p.destination());
            WorkerStatus st = WorkerStatus.newBuilder().setWorkerId(workerId).setDestination(p.destination())
                .setPublishedAtMs(now).setIntervalMs(interval.toMillis()).setReady(p.ready())
                .setBreakerState(p.breakerState()).setPaused(p.paused()).setPendingPaths(p.pendingPaths())
                .setCommandsInFlight(p.commandsInFlight()).setCommandsWaitingForRetry(p.commandsWaitingForRetry())
                .setLagEvents(p.lagEvents()).setAssignedPartitions(p.assignedPartitions()).setSyncsOk(h.syncsOk())
                .setSyncsFailed(h.syncsFailed()).setLastSuccessMs(h.lastSuccessMs()).setLastErrorMs(h.lastErrorMs())
                .setLastError(h.lastError()).setRecentSyncs(h.recent())
                .setStuckPaths(p.stuckPaths().stream().limit(MAX_STUCK_PATHS).map(v -> new StuckPathStatus(v.host(),
                    v.root(), v.path().show(), v.reason(), v.sinceMs(), v.attempts())).toList())
                .build();
            sink.publishStatus(key(workerId, p.destination()), codec.encode(st));
        }
    }

    /** Stops publishing and writes a tombstone per destination (call before the producer closes). */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (String destination : pipelines.get().keySet()) sink.publishStatus(key(workerId, destination), null);
    }
}
