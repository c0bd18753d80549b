package io.rtbackup.worker.config;

import io.rtbackup.topics.DestinationGroup;
import java.util.List;

/**
 * One destination the worker serves: which (host, root) pairs go there and where under the destination they land.
 *
 * @param name           destination name as the agents know it (also the consumer group suffix and metric label)
 * @param routes         the pairs routed here; a pair matching any rule is routed
 * @param prefixTemplate remote prefix with {@code {host}} and {@code {root}} placeholders; default
 *                       {@value #DEFAULT_PREFIX} so hosts never overwrite each other
 */
public record DestinationConfig(String name, List<RouteRule> routes, String prefixTemplate) {
    public static final String DEFAULT_PREFIX = "{host}/{root}/";

    public DestinationConfig {
        routes = List.copyOf(routes);
    }

    public boolean routes(String hostId, String rootId) {
        for (RouteRule r : routes) if (r.matches(hostId, rootId)) return true;
        return false;
    }

    /** The remote prefix for a routed pair. Ids are validated elsewhere (no {@code /}, no {@code ..}). */
    public String remotePrefix(String hostId, String rootId) {
        return prefixTemplate.replace("{host}", hostId).replace("{root}", rootId);
    }

    /** The Kafka consumer group of this destination's pipeline. */
    public String consumerGroup() {
        return DestinationGroup.of(name);
    }
}
