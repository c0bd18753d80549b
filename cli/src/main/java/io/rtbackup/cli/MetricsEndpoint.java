package io.rtbackup.cli;

import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The HTTP endpoint of a process ({@code --metrics-port}, {@code --metrics-host}): Prometheus text on
 * {@code /metrics} and, for workers and {@code rtb up}, the status page on {@code /status} and
 * {@code /status.json}. Port 0 means none. Public for the end-to-end tests, which serve the page exactly as the
 * commands do.
 */
public final class MetricsEndpoint implements AutoCloseable {
    public static final String DEFAULT_HOST = "127.0.0.1";

    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(PrometheusRegistry registry, int port) {
        return start(registry, DEFAULT_HOST, port, null);
    }

    /**
     * @param host       address to bind: 127.0.0.1 by default; 0.0.0.0 (or the pod's address) so Prometheus in
     *                   Kubernetes or Docker can scrape it
     * @param statusPage served for every path but {@code /metrics} and {@code /-/healthy}; null for none
     */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, HttpHandler statusPage) {
        if (port <= 0) return new MetricsEndpoint(null);
        try {
            HTTPServer.Builder b = HTTPServer.builder().hostname(host).port(port).registry(registry);
            if (statusPage != null) b.defaultHandler(statusPage);
            return new MetricsEndpoint(b.buildAndStart());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + host + ":" + port + " (--metrics-host, "
                + "--metrics-port): " + e.getMessage(), e);
        }
    }

    /** The bound port (the configured one), or 0 when there is no endpoint. */
    public int port() {
        return server == null ? 0 : server.getPort();
    }

    @Override
    public void close() {
        if (server != null) server.close();
    }
}
