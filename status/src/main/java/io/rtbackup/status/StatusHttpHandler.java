package io.rtbackup.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Serves the status page: {@code /} and {@code /status} (HTML), {@code /status.json}. Mounted on the metrics port
 * next to {@code /metrics}, so a process needs one port for everything an operator looks at. A snapshot is read
 * from Kafka at most once per {@code minAge}, however many browsers refresh. Who may see it is decided by the
 * server it is mounted on, before this handler runs (the CLI's metrics endpoint: open on loopback, a bearer
 * token on any other bind), so the page and {@code /metrics} share one rule. With a {@link SwitchHandler} the page
 * also shows a pause/resume button per root, posting to {@value SwitchHandler#PATH}.
 */
public final class StatusHttpHandler implements HttpHandler {

    /** Where snapshots come from: a {@link StatusReader} in production. */
    @FunctionalInterface
    public interface Source {
        FleetStatus read() throws StatusUnavailableException;
    }

    private final Source source;
    private final String title;
    private final long minAgeNs;
    private final SwitchHandler switches;
    private FleetStatus cached;
    private long cachedAtNs;

    public StatusHttpHandler(Source source, String title, Duration minAge) {
        this(source, title, minAge, null);
    }

    /** @param switches serves the pause switch; null for a page without one */
    public StatusHttpHandler(Source source, String title, Duration minAge, SwitchHandler switches) {
        this.switches = switches;
        this.source = source;
        this.title = title;
        this.minAgeNs = minAge.toNanos();
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            if (switches != null && path.equals(SwitchHandler.PATH)) {
                switches.handle(ex);
                invalidate();
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                send(ex, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
                return;
            }
            boolean json = path.equals("/status.json");
            if (!json && !path.equals("/") && !path.equals("/status")) {
                send(ex, 404, "text/plain; charset=utf-8", "not found; the status page is /status, metrics are /metrics\n");
                return;
            }
            FleetStatus s;
            try {
                s = snapshot();
            } catch (StatusUnavailableException e) {
                if (json) send(ex, 503, "application/json", "{\"error\": " + quote(e.getMessage()) + "}\n");
                else send(ex, 503, "text/html; charset=utf-8", StatusPage.unavailable(e.getMessage(), title));
                return;
            }
            if (json) send(ex, 200, "application/json", StatusJson.write(s));
            else send(ex, 200, "text/html; charset=utf-8", StatusPage.render(s, title,
                switches == null ? null : switches.formToken()));
        }
    }

    /** The next page read goes to Kafka: after a switch the page must show it. */
    private synchronized void invalidate() {
        cached = null;
    }

    private synchronized FleetStatus snapshot() throws StatusUnavailableException {
        long now = System.nanoTime();
        if (cached == null || now - cachedAtNs >= minAgeNs) {
            cached = source.read();
            cachedAtNs = System.nanoTime();
        }
        return cached;
    }

    private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        // The page has no script and loads nothing: forbid both, in case an escape is ever missed; its only form
        // posts to this server, and no other site may frame it (a framed switch could be clicked unseen).
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
            + "form-action 'self'; frame-ancestors 'none'");
        ex.getResponseHeaders().set("X-Frame-Options", "DENY");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
