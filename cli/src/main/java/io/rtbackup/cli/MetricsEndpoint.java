package io.rtbackup.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.exporter.httpserver.DefaultHandler;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.kafka.SecretFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The HTTP endpoint of a process ({@code --metrics-port}, {@code --metrics-host}, {@code --metrics-token-file}):
 * Prometheus text on {@code /metrics}; {@code /-/healthy} (200 while the process answers: liveness);
 * {@code /-/ready} (200 once the process does its work, 503 before: readiness), when the process says what ready
 * means; and, for workers and {@code rtb up}, the status page on {@code /status} and {@code /status.json}. Port 0
 * means none. Public for the end-to-end tests, which serve the page exactly as the commands do.
 *
 * <p>Liveness asks nothing of Kafka on purpose: a process whose work cannot go on ends itself non-zero
 * ({@code ExitingFatalErrorHandler}), so one that still answers is alive, and restarting it during a broker
 * outage would only add a rebalance to the outage.
 *
 * <p>Nothing is exposed by accident: bound to a loopback address (127.0.0.0/8, ::1) the endpoint is open, as only
 * this host reaches it; bound to any other address (0.0.0.0 included) it refuses to start without a token file,
 * and with one every request on every path needs {@code Authorization: Bearer <token>} ({@link
 * BearerTokenAuthenticator}; a token given for a loopback bind is required there too). The token file must be
 * its owner's alone ({@link SecretFile}). The rule is judged on the address actually bound (the host name is
 * resolved once, here).
 */
public final class MetricsEndpoint implements AutoCloseable {
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** The flag naming the token file; the worker's and agent's config key is {@value #TOKEN_KEY}. */
    public static final String TOKEN_FLAG = "--metrics-token-file";
    public static final String TOKEN_KEY = "metrics.token-file";
    public static final String READY_PATH = "/-/ready";
    /** Requests waiting for a thread of a sized pool; more are refused (the connection is closed), as by the exporter. */
    static final int QUEUED = 100;

    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(PrometheusRegistry registry, int port) {
        return start(registry, DEFAULT_HOST, port, null);
    }

    /** Without a token: only a loopback {@code host} is accepted. */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, HttpHandler statusPage) {
        return start(registry, host, port, Optional.empty(), statusPage);
    }

    /**
     * @param host       address to bind: 127.0.0.1 by default; 0.0.0.0 (or the pod's address) so Prometheus in
     *                   Kubernetes or Docker can scrape it, which needs {@code tokenFile}
     * @param tokenFile  the bearer token's file (first line), owner-only
     * @param statusPage served for every path but {@code /metrics} and {@code /-/healthy}; null for none
     * @throws IllegalArgumentException when {@code host} is not loopback and there is no token, or the token file
     *                                  is unusable; the message says what to do
     */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, Optional<Path> tokenFile,
            HttpHandler statusPage) {
        return start(registry, host, port, tokenFile, statusPage, null);
    }

    /**
     * As {@link #start(PrometheusRegistry, String, int, Optional, HttpHandler)}, with {@code /-/ready}.
     *
     * @param ready answers {@code /-/ready}; null for no such path. Called on the server's threads.
     */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, Optional<Path> tokenFile,
            HttpHandler statusPage, BooleanSupplier ready) {
        return start(registry, host, port, tokenFile, statusPage, ready, 0);
    }

    /**
     * As {@link #start(PrometheusRegistry, String, int, Optional, HttpHandler, BooleanSupplier)}, answering on
     * {@code threads} threads.
     *
     * @param threads how many requests are answered at once (more wait in a queue of {@value #QUEUED}); 0 for the
     *                exporter's own pool, whose ten threads, once a scraper has made them, stay for the life of
     *                the process. The agent, which runs on every source host, takes one (docs/performance.md).
     */
    public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port, Optional<Path> tokenFile,
            HttpHandler statusPage, BooleanSupplier ready, int threads) {
        if (port <= 0) return new MetricsEndpoint(null);
        InetAddress address = address(host);
        Optional<String> token = token(host, address, tokenFile);
        try {
            HTTPServer.Builder b = HTTPServer.builder().inetAddress(address).port(port).registry(registry);
            if (threads > 0) b.executorService(pool(threads));
            token.ifPresent(t -> b.authenticator(new BearerTokenAuthenticator(t)));
            // the exporter serves /metrics and /-/healthy itself; everything else reaches the default handler
            HttpHandler other = statusPage != null ? statusPage : ready != null ? new DefaultHandler("/metrics") : null;
            if (ready != null) other = readiness(ready, other);
            if (other != null) b.defaultHandler(other);
            return new MetricsEndpoint(b.buildAndStart());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + host + ":" + port + " (--metrics-host, "
                + "--metrics-port): " + e.getMessage(), e);
        }
    }

    /**
     * Applies the exposure rule without binding, so a command can fail before it starts anything else.
     *
     * @throws IllegalArgumentException as {@link #start(PrometheusRegistry, String, int, Optional, HttpHandler)}
     */
    public static void check(String host, int port, Optional<Path> tokenFile) {
        if (port > 0) token(host, address(host), tokenFile);
    }

    private static InetAddress address(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--metrics-host " + host + ": cannot resolve it (" + e.getMessage()
                + ")", e);
        }
    }

    /** The token, read now; none is only allowed for a loopback bind. */
    private static Optional<String> token(String host, InetAddress address, Optional<Path> tokenFile) {
        Optional<String> token = tokenFile.map(f -> SecretFile.read(f, TOKEN_FLAG));
        if (token.isEmpty() && !address.isLoopbackAddress()) {
            throw new IllegalArgumentException("--metrics-host " + host + " is not a loopback address, so /metrics "
                + "and the status page would be open to the network: give a token with " + TOKEN_FLAG + " FILE ("
                + TOKEN_KEY + " in a config file; the file's first line, mode 600), which every request must send "
                + "as 'Authorization: Bearer <token>', or bind 127.0.0.1");
        }
        return token;
    }

    /** {@code threads} daemon threads named rtb-metrics-http-N, made as requests come; the server shuts it down. */
    private static ExecutorService pool(int threads) {
        AtomicInteger made = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
            Thread t = new Thread(r, "rtb-metrics-http-" + made.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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
