package io.rtbackup.agent.transport;

import java.time.Duration;

/**
 * What the {@link EventPublisher} waits for before its first send: capture runs and fills the publish buffer
 * meanwhile. The agent opens it once its command executor reads its partition of the commands topic, so that
 * every command a worker sends in answer to a published event (the start-up rescan first of all) is written after
 * the executor's start position and is seen, while watching does not wait for Kafka at all.
 */
@FunctionalInterface
public interface PublishGate {
    /** Sends at once. */
    PublishGate OPEN = timeout -> true;

    /** True once open; false when {@code timeout} passed first. */
    boolean await(Duration timeout) throws InterruptedException;
}
