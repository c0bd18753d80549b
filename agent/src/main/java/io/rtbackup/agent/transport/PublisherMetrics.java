package io.rtbackup.agent.transport;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.rtbackup.schema.CaptureSource;
import java.util.EnumMap;
import java.util.Locale;
import java.util.function.IntSupplier;

/** The event publisher's metrics; each source's counter cells are looked up once, not per event. */
final class PublisherMetrics {
    final Counter rescansAfterLoss;
    final Counter publishErrors;
    final Histogram latency;
    private final EnumMap<CaptureSource, CounterDataPoint> published = new EnumMap<>(CaptureSource.class);
    private final EnumMap<CaptureSource, CounterDataPoint> dropped = new EnumMap<>(CaptureSource.class);
    private final EnumMap<CaptureSource, CounterDataPoint> merged = new EnumMap<>(CaptureSource.class);

    /** @param queueDepth distinct events waiting in the publisher's buffer */
    PublisherMetrics(PrometheusRegistry registry, IntSupplier queueDepth) {
        Counter publishedAll = Counter.builder().name("rtb_agent_events_published")
                .help("Events acknowledged by Kafka").labelNames("source").register(registry);
        Counter droppedAll = Counter.builder().name("rtb_agent_events_dropped_to_rescan")
                .help("Events not delivered (buffer full or Kafka unreachable) and covered by a root rescan")
                .labelNames("source").register(registry);
        // not rtb_agent_events_merged: the normaliser's MODIFY bursts have that name
        Counter mergedAll = Counter.builder().name("rtb_agent_publish_merged")
                .help("Events merged into an identical event still waiting in the publish buffer (not sent again)")
                .labelNames("source").register(registry);
        rescansAfterLoss = Counter.builder().name("rtb_agent_rescans_after_loss")
                .help("RESCAN events published because a root lost events").register(registry);
        publishErrors = Counter.builder().name("rtb_agent_publish_errors")
                .help("Sends that Kafka refused or timed out").register(registry);
        latency = Histogram.builder().name("rtb_agent_publish_latency_seconds").unit(Unit.SECONDS)
                .help("From capture (of the first change an event stands for) to Kafka's acknowledgement")
                .classicUpperBounds(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
                .register(registry);
        for (CaptureSource source : CaptureSource.values()) {
            String label = source.name().toLowerCase(Locale.ROOT);
            published.put(source, publishedAll.labelValues(label));
            dropped.put(source, droppedAll.labelValues(label));
            merged.put(source, mergedAll.labelValues(label));
        }
        GaugeWithCallback.builder().name("rtb_agent_publish_queue_depth")
                .help("Distinct events waiting in the agent's buffer for Kafka")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
    }

    void published(CaptureSource source) {
        published.get(source).inc();
    }

    void dropped(CaptureSource source) {
        dropped.get(source).inc();
    }

    void merged(CaptureSource source) {
        merged.get(source).inc();
    }
}
