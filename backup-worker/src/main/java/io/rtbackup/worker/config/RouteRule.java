package io.rtbackup.worker.config;

/** One {@code host-glob:root-glob} entry of a destination's routes. */
public record RouteRule(Glob host, Glob root) {
    public boolean matches(String hostId, String rootId) {
        return host.matches(hostId) && root.matches(rootId);
    }

    @Override
    public String toString() {
        return host + ":" + root;
    }
}
