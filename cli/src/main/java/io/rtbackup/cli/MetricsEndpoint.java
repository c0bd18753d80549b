package io.rtbackup.cli;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The Prometheus text endpoint of a process ({@code --metrics-port}); port 0 means none. */
final class MetricsEndpoint implements AutoCloseable {
    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(PrometheusRegistry registry, int port) {
        if (port <= 0) return new MetricsEndpoint(null);
        try {
            return new MetricsEndpoint(HTTPServer.builder().hostname("127.0.0.1").port(port).registry(registry)
                .buildAndStart());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on 127.0.0.1:" + port + " (--metrics-port): "
                + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (server != null) server.close();
    }
}
