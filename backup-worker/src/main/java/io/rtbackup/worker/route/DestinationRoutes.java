package io.rtbackup.worker.route;

import io.rtbackup.worker.config.DestinationConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Routing decisions of one destination: whether a (host, root) goes there and under which remote prefix.
 * Decisions are cached because every event asks; not thread-safe (one pipeline thread owns it).
 */
public final class DestinationRoutes {
    private static final int CACHE_LIMIT = 100_000;

    private final DestinationConfig destination;
    private final Map<RootKey, Optional<String>> cache = new HashMap<>();

    public DestinationRoutes(DestinationConfig destination) {
        this.destination = destination;
    }

    public String destination() {
        return destination.name();
    }

    /** The remote prefix for this pair, or empty when the pair is not routed to this destination. */
    public Optional<String> prefixFor(RootKey key) {
        Optional<String> hit = cache.get(key);
        if (hit != null) return hit;
        Optional<String> decided = destination.routes(key.host(), key.root())
            ? Optional.of(destination.remotePrefix(key.host(), key.root()))
            : Optional.empty();
        // A fleet has far fewer roots than this; the bound only protects against a flood of bogus ids.
        if (cache.size() >= CACHE_LIMIT) cache.clear();
        cache.put(key, decided);
        return decided;
    }

    public boolean routed(RootKey key) {
        return prefixFor(key).isPresent();
    }
}
