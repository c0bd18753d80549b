package io.rtbackup.agent.exec;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.Locale;

/** The executor's metrics, registered on an injected registry. Label "destination" is a configured name or "unknown". */
public final class ExecMetrics {
    private final Counter commands;
    private final Counter undecodable;
    private final Counter bytesSent;
    private final Counter literalBytes;
    private final Counter filesTransferred;
    private final Histogram rsyncDuration;
    private final Gauge inFlight;

    public ExecMetrics(PrometheusRegistry registry) {
        commands = Counter.builder().name("rtb_agent_commands_total")
            .help("SyncCommands handled by this agent, by destination and outcome (ok, partial, failed, rejected)")
            .labelNames("destination", "outcome").register(registry);
        undecodable = Counter.builder().name("rtb_agent_undecodable_commands_total")
            .help("Records for this host on the commands topic that could not be decoded and were skipped")
            .register(registry);
        bytesSent = Counter.builder().name("rtb_agent_rsync_bytes_sent_total")
            .help("Bytes rsync sent on the wire (--stats: Total bytes sent)").labelNames("destination")
            .register(registry);
        literalBytes = Counter.builder().name("rtb_agent_rsync_literal_bytes_total")
            .help("Changed data rsync sent (--stats: Literal data)").labelNames("destination").register(registry);
        filesTransferred = Counter.builder().name("rtb_agent_rsync_files_transferred_total")
            .help("Regular files rsync transferred").labelNames("destination").register(registry);
        rsyncDuration = Histogram.builder().name("rtb_agent_rsync_duration_seconds")
            .help("Wall time of one command's rsync run(s)").labelNames("destination")
            .classicOnly().classicUpperBounds(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
            .register(registry);
        inFlight = Gauge.builder().name("rtb_agent_commands_in_flight")
            .help("Commands read from the topic whose result is not yet published").register(registry);
    }

    void rejected(String destination) {
        commands.labelValues(destination, "rejected").inc();
    }

    void finished(String destination, SyncOutcome outcome) {
        commands.labelValues(destination, outcome.name().toLowerCase(Locale.ROOT)).inc();
    }

    void rsyncRan(String destination, ReplicationReport report) {
        bytesSent.labelValues(destination).inc(report.stats().bytesSent());
        literalBytes.labelValues(destination).inc(report.stats().literalBytes());
        filesTransferred.labelValues(destination).inc(report.stats().filesTransferred());
        rsyncDuration.labelValues(destination).observe(seconds(report.duration()));
    }

    void undecodable() {
        undecodable.inc();
    }

    void inFlight(int n) {
        inFlight.set(n);
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }
}
