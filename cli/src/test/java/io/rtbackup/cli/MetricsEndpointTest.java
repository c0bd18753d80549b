package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exposure rule over real HTTP: bound to every address (0.0.0.0) the endpoint needs a token, and a request
 * reaching it through 127.0.0.1 is still judged by that bind, not by where it came from.
 */
class MetricsEndpointTest {
    private static final String TOKEN = "s3cr3t-token-4-scrapers";

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newHttpClient();
    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final HttpHandler statusPage = exchange -> {
        byte[] body = "<h1>status</h1>".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    };

    private Path tokenFile(String perms) throws IOException {
        Path f = Files.createFile(tmp.resolve("token-" + perms),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        return Files.writeString(f, TOKEN + "\n");
    }

    private HttpResponse<String> get(int port, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void bindingBeyondLoopbackWithoutATokenRefusesToStart() throws IOException {
        int port = freePort();
        assertThatThrownBy(() -> MetricsEndpoint.start(registry, "0.0.0.0", port, statusPage))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("--metrics-host 0.0.0.0 is not a loopback address")
            .hasMessageContaining("--metrics-token-file").hasMessageContaining("metrics.token-file");
        // Nothing was bound: the port is still free.
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("0.0.0.0", port));
        }
    }

    @Test
    void aTokenFileOthersCanReadIsRefused() throws IOException {
        Path open = tokenFile("rw-r--r--");
        assertThatThrownBy(() -> MetricsEndpoint.start(registry, "0.0.0.0", freePort(), Optional.of(open), statusPage))
            .hasMessageContaining("--metrics-token-file").hasMessageContaining("chmod 600");
    }

    @Test
    void withATokenEveryPathButTheProbesNeedsTheBearerToken() throws Exception {
        Counter.builder().name("rtb_probe").help("probe").register(registry).inc();
        try (MetricsEndpoint e = MetricsEndpoint.start(registry, "0.0.0.0", freePort(),
                Optional.of(tokenFile("rw-------")), statusPage)) {
            for (String path : new String[] {"/metrics", "/status", "/status.json", "/anything"}) {
                HttpResponse<String> none = get(e.port(), path, null);
                assertThat(none.statusCode()).as(path).isEqualTo(401);
                assertThat(none.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(
                    v -> assertThat(v).startsWith("Bearer"));
                assertThat(none.body()).doesNotContain("rtb_probe", "status");
                assertThat(get(e.port(), path, "Bearer wrong-token").statusCode()).as(path).isEqualTo(401);
                assertThat(get(e.port(), path, "Bearer " + TOKEN + "x").statusCode()).as(path).isEqualTo(401);
                assertThat(get(e.port(), path, "Basic " + TOKEN).statusCode()).as(path).isEqualTo(401);
            }
            // a Kubernetes probe cannot send a header from a Secret; the probe tells only that the process is up
            HttpResponse<String> probe = get(e.port(), "/-/healthy", null);
            assertThat(probe.statusCode()).isEqualTo(200);
            assertThat(probe.body()).doesNotContain("rtb_probe", "status");
            HttpResponse<String> metrics = get(e.port(), "/metrics", "Bearer " + TOKEN);
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("rtb_probe_total 1.0");
            HttpResponse<String> page = get(e.port(), "/status", "Bearer " + TOKEN);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<h1>status</h1>");
        }
    }

    @Test
    void loopbackStaysOpenWithoutAToken() throws Exception {
        try (MetricsEndpoint e = MetricsEndpoint.start(registry, "127.0.0.1", freePort(), statusPage)) {
            assertThat(get(e.port(), "/metrics", null).statusCode()).isEqualTo(200);
            assertThat(get(e.port(), "/status", null).statusCode()).isEqualTo(200);
        }
        try (MetricsEndpoint e = MetricsEndpoint.start(registry, "localhost", freePort(), statusPage)) {
            assertThat(e.port()).isPositive();
        }
    }

    @Test
    void aSizedEndpointAnswersOnItsOwnThreadsOnly() throws Exception {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        HttpHandler page = exchange -> {
            threads.add(Thread.currentThread().getName());
            statusPage.handle(exchange);
        };
        try (MetricsEndpoint e = MetricsEndpoint.start(registry, "127.0.0.1", freePort(), Optional.empty(), page, null,
                1)) {
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + e.port() + "/status"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> r : sent) assertThat(r.get().statusCode()).isEqualTo(200);
        }
        // the exporter's own pool would have answered on prometheus-http-1-1, -1-2, ...
        assertThat(threads).containsExactly("rtb-metrics-http-1");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
