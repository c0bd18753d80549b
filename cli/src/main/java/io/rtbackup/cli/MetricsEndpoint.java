package io.rtbackup.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.exporter.httpserver.DefaultHandler;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * The HTTP endpoint of a process ({@code --metrics-port}, {@code --metrics-host}): Prometheus text on
 * {@code /metrics}; {@code /-/healthy} (200 while the process answers: liveness); {@code /-/ready} (200 once the
 * process does its work, 503 before: readiness), when the process says what ready means; and, for workers and
 * {@code rtb up}, the status page on {@code /status} and {@code /status.json}. Port 0 means none. Public for the
 * end-to-end tests, which serve the page exactly as the commands do.
 *
 * <p>Liveness asks nothing of Kafka on purpose: a process whose work cannot go on ends itself non-zero
 * ({@code ExitingFatalErrorHandler}), so one that still answers is alive, and restarting it during a broker
 * outage would only add a rebalance to the outage.
 */
public final class MetricsEndpoint implements AutoCloseable {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final String READY_PATH = "/-/ready";

    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(PrometheusRegistry registry, int port) {
        return start(registry, DEFAULT_HOST, port, null);
    }

    /** As {@link #start(PrometheusRegistry, String, int, HttpHandler, BooleanSupplier)}, without {@code /-/ready}. */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, HttpHandler statusPage) {
        return start(registry, host, port, statusPage, null);
    }

    /**
     * @param host       address to bind: 127.0.0.1 by default; 0.0.0.0 (or the pod's address) so Prometheus in
     *                   Kubernetes or Docker can scrape it
     * @param statusPage served for every other path; null for the exporter's own landing page
     * @param ready      answers {@code /-/ready}; null for no such path. Called on the server's threads.
     */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, HttpHandler statusPage,
                                        BooleanSupplier ready) {
        if (port <= 0) return new MetricsEndpoint(null);
        try {
            // the exporter serves /metrics and /-/healthy itself; everything else reaches the default handler
            HTTPServer.Builder b = HTTPServer.builder().hostname(host).port(port).registry(registry);
            HttpHandler other = statusPage != null ? statusPage : ready != null ? new DefaultHandler("/metrics") : null;
            if (ready != null) other = readiness(ready, other);
            if (other != null) b.defaultHandler(other);
            return new MetricsEndpoint(b.buildAndStart());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + host + ":" + port + " (--metrics-host, "
                + "--metrics-port): " + e.getMessage(), e);
        }
    }

    private static HttpHandler readiness(BooleanSupplier ready, HttpHandler other) {
        return exchange -> {
            if (!exchange.getRequestURI().getPath().equals(READY_PATH)) {
                other.handle(exchange);
                return;
            }
            boolean isReady = ready.getAsBoolean();
            respond(exchange, isReady ? 200 : 503, isReady ? "ready\n" : "not ready\n");
        };
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) out.write(bytes);
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
