package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The endpoint over real HTTP: metrics, liveness, readiness as the process reports it, and the status page. */
class MetricsEndpointReadinessTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void readinessFollowsTheProcessWhileLivenessAndMetricsAlwaysAnswer() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        Gauge.builder().name("rtb_test_gauge").help("a gauge").register(registry).set(7);
        AtomicBoolean ready = new AtomicBoolean(false);
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(registry, MetricsEndpoint.DEFAULT_HOST, freePort(),
            Optional.empty(), exchange -> {
                byte[] page = ("status page for " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, page.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(page);
                }
            }, ready::get)) {
            int port = endpoint.port();
            assertThat(get(port, "/-/ready").statusCode()).isEqualTo(503);
            assertThat(get(port, "/-/healthy").statusCode()).as("alive before ready").isEqualTo(200);
            ready.set(true);
            HttpResponse<String> r = get(port, "/-/ready");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ready\n");
            assertThat(get(port, "/metrics").body()).contains("rtb_test_gauge 7.0");
            assertThat(get(port, "/status.json").body()).isEqualTo("status page for /status.json");
            ready.set(false);
            assertThat(get(port, "/-/ready").statusCode()).isEqualTo(503);
            assertThat(get(port, "/-/healthy").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void withoutAStatusPageOrReadinessTheExporterPagesRemain() throws Exception {
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new PrometheusRegistry(), MetricsEndpoint.DEFAULT_HOST,
            freePort(), Optional.empty(), null, () -> true)) {
            assertThat(get(endpoint.port(), "/-/ready").statusCode()).isEqualTo(200);
            assertThat(get(endpoint.port(), "/").statusCode()).as("the exporter's landing page").isEqualTo(200);
        }
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new PrometheusRegistry(), MetricsEndpoint.DEFAULT_HOST,
            freePort(), null)) {
            assertThat(get(endpoint.port(), "/-/healthy").statusCode()).isEqualTo(200);
            assertThat(get(endpoint.port(), "/metrics").statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
