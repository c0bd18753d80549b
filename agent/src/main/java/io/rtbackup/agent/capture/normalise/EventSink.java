package io.rtbackup.agent.capture.normalise;

/** Receives normalised events; must not block (the capture reader threads call it indirectly). */
@FunctionalInterface
public interface EventSink {
    void accept(CapturedEvent event);
}
