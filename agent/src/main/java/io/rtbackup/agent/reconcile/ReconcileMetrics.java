package io.rtbackup.agent.reconcile;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;

/** Reconciliation metrics, registered on an injected registry; labelled by root id and destination name. */
public final class ReconcileMetrics {
    private final Counter differences;
    private final Counter runs;
    private final Gauge lastSuccess;

    public ReconcileMetrics(PrometheusRegistry registry) {
        differences = Counter.builder().name("rtb_agent_reconcile_differences")
            .help("Entries a reconciliation found different on the destination and repaired (files transferred "
                + "plus entries deleted): changes capture or delivery missed, or made on the destination")
            .labelNames("root", "destination").register(registry);
        runs = Counter.builder().name("rtb_agent_reconcile_runs_total")
            .help("Reconciliations run, by outcome (ok, partial, failed, rejected)")
            .labelNames("root", "destination", "outcome").register(registry);
        lastSuccess = Gauge.builder().name("rtb_agent_reconcile_last_success_seconds")
            .help("Unix time at which the last successful reconciliation of the tree finished")
            .labelNames("root", "destination").register(registry);
    }

    void finished(Reconciliation r, long finishedAtMs) {
        runs.labelValues(r.rootId(), r.destination(), r.outcome().name().toLowerCase(Locale.ROOT)).inc();
        differences.labelValues(r.rootId(), r.destination()).inc(r.differences());
        if (r.ok()) lastSuccess.labelValues(r.rootId(), r.destination()).set(finishedAtMs / 1000.0);
    }
}
