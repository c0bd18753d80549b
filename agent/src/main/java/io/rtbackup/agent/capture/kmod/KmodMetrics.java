package io.rtbackup.agent.capture.kmod;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The kmod source's counters. Register once per registry and share between source instances (auto-selection
 * may create the source more than once; a registry refuses a name twice).
 */
public record KmodMetrics(Counter records, Counter protocolErrors, Counter lostEvents) {

    public static KmodMetrics register(PrometheusRegistry registry) {
        return new KmodMetrics(
                Counter.builder().name("rtb_kmod_records")
                        .help("Records read from the rtbackup kernel module, by op").labelNames("op").register(registry),
                Counter.builder().name("rtb_kmod_protocol_errors")
                        .help("Reads from /dev/rtbackup that failed or did not decode; each became a rescan of every root")
                        .register(registry),
                Counter.builder().name("rtb_kmod_lost_events")
                        .help("Events the kernel module reported lost (ring full); each overflow became a rescan")
                        .register(registry));
    }
}
