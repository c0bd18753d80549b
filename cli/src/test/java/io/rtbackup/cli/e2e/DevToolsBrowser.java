package io.rtbackup.cli.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Headless Chromium driven over the DevTools protocol, so a test can click: it starts the browser with a debugging
 * port of its own choosing (0: the browser picks and prints it), opens the page target's WebSocket and sends
 * protocol commands (navigate, evaluate, mouse events). A click is real input: a mouse press and release at the
 * centre of the element, which the browser turns into the form submission a user's click would make. Closing it
 * kills the browser's whole process tree.
 */
final class DevToolsBrowser implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://[^\\s]+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();

    private DevToolsBrowser(Process process, WebSocket socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Debian's Chromium on PATH; its absence is a failure that says how to install it, never a skip. */
    static Path chromium() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) return p;
            }
        }
        throw new AssertionError("chromium is not on PATH: install Debian's chromium package (apt-get install "
            + "chromium; ./run-tests does it) to run the status page tests");
    }

    /** A loopback port free now, for the page under test. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static DevToolsBrowser start(Path chromium, Path profile) throws Exception {
        List<String> cmd = List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1280,900",
            "about:blank");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String browserWs = null;
            List<String> seen = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (browserWs == null && System.nanoTime() < deadline) {
                String line = err.readLine();
                if (line == null) throw new AssertionError("chromium ended before DevTools listened: " + seen);
                seen.add(line);
                Matcher m = LISTENING.matcher(line);
                if (m.find()) browserWs = m.group(1);
            }
            if (browserWs == null) throw new AssertionError("chromium's DevTools did not listen within 60 s: " + seen);
            Thread drain = new Thread(() -> err.lines().forEach(l -> { }), "chromium-stderr");
            drain.setDaemon(true);
            drain.start();
            URI base = URI.create(browserWs.replaceFirst("^ws://", "http://").replaceFirst("/devtools/.*$", ""));
            HttpClient http = HttpClient.newHttpClient();
            String pageWs = null;
            for (int i = 0; i < 50 && pageWs == null; i++) {
                JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(base.resolve("/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
                for (JsonNode t : targets) {
                    if (t.path("type").asText().equals("page")) pageWs = t.path("webSocketDebuggerUrl").asText();
                }
                if (pageWs == null) Thread.sleep(200);
            }
            if (pageWs == null) throw new AssertionError("chromium has no page target");
            DevToolsBrowser[] self = new DevToolsBrowser[1];
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new WebSocket.Listener() {
                private final StringBuilder text = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                        String message = text.toString();
                        text.setLength(0);
                        self[0].received(message);
                    }
                    w.request(1);
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            self[0] = new DevToolsBrowser(p, ws);
            return self[0];
        } catch (Exception | AssertionError e) {
            kill(p);
            throw e;
        }
    }

    private void received(String message) {
        try {
            JsonNode n = JSON.readTree(message);
            if (!n.has("id")) return; // an event; none is needed here
            CompletableFuture<JsonNode> f = waiting.remove(n.get("id").asInt());
            if (f == null) return;
            if (n.has("error")) f.completeExceptionally(new AssertionError("DevTools error: " + n.get("error")));
            else f.complete(n.path("result"));
        } catch (IOException e) {
            waiting.values().forEach(f -> f.completeExceptionally(e));
        }
    }

    /** Sends one protocol command and returns its result. */
    JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        waiting.put(id, f);
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        msg.set("params", JSON.valueToTree(params));
        socket.sendText(JSON.writeValueAsString(msg), true).get(30, TimeUnit.SECONDS);
        return f.get(60, TimeUnit.SECONDS);
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
        waitFor("document.readyState === 'complete' && location.href === " + JSON.writeValueAsString(url),
            "true"::equals, Duration.ofSeconds(60));
    }

    /** The value of a JavaScript expression in the page, as a string (DevTools evaluation: not the page's script). */
    String evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", Map.of("expression", "String(" + expression + ")", "returnByValue", true));
        return r.path("result").path("value").asText();
    }

    /** Evaluates {@code expression} until its value satisfies {@code done}; returns that value. */
    String waitFor(String expression, Predicate<String> done, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String v = null;
        while (System.nanoTime() < deadline) {
            try {
                v = evaluate(expression);
                if (done.test(v)) return v;
            } catch (AssertionError e) {
                v = e.getMessage(); // a navigation in progress destroys the context; try again
            }
            Thread.sleep(200);
        }
        throw new AssertionError("'" + expression + "' did not become as expected within " + timeout.toSeconds()
            + " s; last value: " + v);
    }

    /** Clicks the element with id {@code id} as a user would: mouse press and release at its centre. */
    void click(String id) throws Exception {
        String js = JSON.writeValueAsString(id);
        String box = waitFor("(() => { const e = document.getElementById(" + js + "); if (!e) return ''; "
            + "e.scrollIntoView(); const r = e.getBoundingClientRect(); return (r.x + r.width / 2) + ',' + "
            + "(r.y + r.height / 2); })()", v -> !v.isEmpty(), Duration.ofSeconds(30));
        double x = Double.parseDouble(box.split(",")[0]);
        double y = Double.parseDouble(box.split(",")[1]);
        for (String type : List.of("mouseMoved", "mousePressed", "mouseReleased")) {
            call("Input.dispatchMouseEvent", Map.of("type", type, "x", x, "y", y, "button", type.equals("mouseMoved")
                ? "none" : "left", "clickCount", type.equals("mouseMoved") ? 0 : 1));
        }
    }

    @Override
    public void close() {
        socket.abort();
        kill(process);
    }

    private static void kill(Process p) {
        try (Stream<ProcessHandle> children = p.descendants()) {
            children.forEach(ProcessHandle::destroyForcibly);
        }
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
