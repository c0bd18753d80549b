package io.rtbackup.topics;

import java.util.Map;

/** How one topic must look: partitions, replication and topic-level configs. */
public record TopicSpec(String role, String defaultName, int partitions, short replicationFactor,
                        Map<String, String> configs) {
    public TopicSpec {
        configs = Map.copyOf(configs);
    }
}
