package io.rtbackup.worker.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The worker's metrics, registered in the registry it is given (never the default one) and unregistered on
 * {@link #close()}. Label {@code destination} everywhere it applies.
 */
public final class WorkerMetrics implements AutoCloseable {
    private static final double[] SECONDS = {0.01, 0.025, 0.05, 0.1, 0.175, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};

    private final PrometheusRegistry registry;
    private final List<Collector> registered = new ArrayList<>();

    public final Counter eventsConsumed;
    public final Counter eventsAlreadyReplicated;
    public final Counter commandsIssued;
    public final Counter commandResults;
    public final Counter retries;
    public final Counter pathsSynced;
    public final Counter eventsSynced;
    public final Counter bytesSent;
    public final Counter filesTransferred;
    public final Histogram rsyncDuration;
    public final Histogram changeToReplica;
    public final Counter deadLetters;
    public final Counter offsetResets;
    public final Counter undecodableResults;
    public final Counter resultsRead;
    public final Gauge breakerState;
    public final Gauge lag;
    public final Gauge pendingPaths;
    public final Gauge inFlightCommands;
    public final Gauge bulkheadSlots;
    public final Gauge paused;
    public final Gauge hostQuarantined;
    public final Gauge stuckPaths;

    public WorkerMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        eventsConsumed = add(Counter.builder().name("rtb_worker_events_consumed_total")
            .help("Events read from the events topic by a destination's pipeline").labelNames("destination").build());
        eventsAlreadyReplicated = add(Counter.builder().name("rtb_worker_events_already_replicated_total")
            .help("Events skipped because a successful sync of their path (or root) started after they were published")
            .labelNames("destination").build());
        commandsIssued = add(Counter.builder().name("rtb_worker_commands_issued_total")
            .help("SyncCommands sent (retries included); kind = paths or full").labelNames("destination", "kind").build());
        commandResults = add(Counter.builder().name("rtb_worker_command_results_total")
            .help("Command outcomes: ok, partial, failed, rejected, timeout, send_failed")
            .labelNames("destination", "outcome").build());
        retries = add(Counter.builder().name("rtb_worker_command_retries_total")
            .help("Commands scheduled for another attempt").labelNames("destination").build());
        pathsSynced = add(Counter.builder().name("rtb_worker_paths_synced_total")
            .help("Paths in commands that succeeded (events synced / paths synced = coalescing ratio)")
            .labelNames("destination").build());
        eventsSynced = add(Counter.builder().name("rtb_worker_events_synced_total")
            .help("Events covered by commands that succeeded").labelNames("destination").build());
        bytesSent = add(Counter.builder().name("rtb_worker_bytes_sent_total")
            .help("Bytes rsync sent on the wire, from its --stats").labelNames("destination").build());
        filesTransferred = add(Counter.builder().name("rtb_worker_files_transferred_total")
            .help("Files rsync transferred, from its --stats").labelNames("destination").build());
        rsyncDuration = add(Histogram.builder().name("rtb_worker_rsync_duration_seconds")
            .help("rsync run time reported by the agent").labelNames("destination")
            .classicOnly().classicUpperBounds(SECONDS).build());
        changeToReplica = add(Histogram.builder().name("rtb_worker_change_to_replica_seconds")
            .help("From the capture of the oldest event of a batch to the end of its rsync (both agent clock)")
            .labelNames("destination").classicOnly().classicUpperBounds(SECONDS).build());
        deadLetters = add(Counter.builder().name("rtb_worker_dlq_records_total")
            .help("Records sent to the DLQ topic").labelNames("destination", "kind").build());
        offsetResets = add(Counter.builder().name("rtb_worker_offset_resets_total")
            .help("Partitions whose committed offset was missing or out of range (full-root syncs follow)")
            .labelNames("destination").build());
        undecodableResults = add(Counter.builder().name("rtb_worker_undecodable_results_total")
            .help("Records on the results topic that are not SyncResults").build());
        resultsRead = add(Counter.builder().name("rtb_worker_results_read_total")
            .help("Records the worker read from the results topic, addressed to it or not (the partition its id maps "
                + "to; compare with rtb_worker_command_results_total for the share addressed to it)").build());
        breakerState = add(Gauge.builder().name("rtb_worker_breaker_state")
            .help("Circuit breaker: 0 closed, 1 half-open, 2 open, 3 other").labelNames("destination").build());
        lag = add(Gauge.builder().name("rtb_worker_lag_events")
            .help("Events not yet durable on the destination (log end minus committable offset, summed)")
            .labelNames("destination").build());
        pendingPaths = add(Gauge.builder().name("rtb_worker_pending_paths")
            .help("Coalesced paths waiting to be issued").labelNames("destination").build());
        inFlightCommands = add(Gauge.builder().name("rtb_worker_inflight_commands")
            .help("Commands waiting for a result or a retry").labelNames("destination").build());
        bulkheadSlots = add(Gauge.builder().name("rtb_worker_bulkhead_slots")
            .help("Commands this worker may have in flight at once: to the destination (per=destination, "
                + "bulkhead.max-concurrent) and of one source host (per=host, bulkhead.max-per-host, at most half)")
            .labelNames("destination", "per").build());
        paused = add(Gauge.builder().name("rtb_worker_consumer_paused")
            .help("1 while the destination's consumer is paused (breaker open or too much pending)")
            .labelNames("destination").build());
        hostQuarantined = add(Gauge.builder().name("rtb_worker_host_quarantined")
            .help("1 while a source host's commands to the destination wait out its backoff (it did not answer, or "
                + "failed on its side); the series goes away when it answers again")
            .labelNames("destination", "host").build());
        stuckPaths = add(Gauge.builder().name("rtb_worker_stuck_paths")
            .help("Source paths of a host:root that its agent could not read (rtb status shows each with its reason); "
                + "retried every retry.stuck-interval-ms, their events stay uncommitted; the series goes away when "
                + "none is stuck")
            .labelNames("destination", "host", "root").build());
    }

    private <T extends Collector> T add(T metric) {
        registry.register(metric);
        registered.add(metric);
        return metric;
    }

    @Override
    public void close() {
        for (Collector c : registered) registry.unregister(c);
        registered.clear();
    }
}
