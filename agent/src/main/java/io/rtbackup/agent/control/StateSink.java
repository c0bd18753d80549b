package io.rtbackup.agent.control;

import io.rtbackup.schema.RootControlState;

/** Where the agent reports what it applied to a root ({@link KafkaStateSink} in production). */
public interface StateSink extends AutoCloseable {
    void publish(RootControlState state);

    @Override
    void close();
}
