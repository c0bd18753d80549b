package io.rtbackup.agent.event;

/** Receives normalised events; must not block (the capture reader threads call it indirectly). */
@FunctionalInterface
public interface EventSink {
    void accept(CapturedEvent event);
}
