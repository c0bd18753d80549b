package io.rtbackup.agent.transport;

import io.rtbackup.agent.event.CapturedEvent;

/** Told about every acknowledged event, from Kafka's network thread: keep it cheap. */
@FunctionalInterface
public interface PublishListener {
    PublishListener NONE = (event, latencyNs) -> { };

    /** @param latencyNs from capture to Kafka's acknowledgement */
    void acknowledged(CapturedEvent event, long latencyNs);
}
