package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.ControlIssuer;
import io.rtbackup.cli.MetricsEndpoint;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.status.StatusHttpHandler;
import io.rtbackup.status.StatusReader;
import io.rtbackup.status.SwitchHandler;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page's pause switch as a user works it: a real fleet (agent, worker, two rsync daemons), the page
 * served as {@code rtb up} serves it, and headless Chromium clicking its buttons. Pausing the root must stop its
 * replication (a file written while paused reaches neither destination), and resuming it must catch the file up and
 * say so. A form on another site that posts to the switch, submitted in the same browser, must be refused and change
 * nothing, as must posts without the page's token or from another origin.
 *
 * <p>Needs Debian's {@code chromium} package (run-tests installs it); without it the test fails.
 */
@ExtendWith(KafkaBrokerExtension.class)
class StatusPageSwitchChromiumTest {
    private static final String PAUSE = "pause-" + Fleet.HOST + "-" + Fleet.ROOT;
    private static final String RESUME = "resume-" + Fleet.HOST + "-" + Fleet.ROOT;
    private static final String RESULT = "(document.getElementById('switch-result') || {textContent: ''}).textContent";

    @TempDir
    Path tmp;

    @Test
    void clickingPauseStopsTheRootAndClickingResumeCatchesItUp(KafkaBroker broker) throws Exception {
        Path chromium = DevToolsBrowser.chromium();
        try (Fleet fleet = new Fleet(broker);
             StatusReader reader = new StatusReader(broker.bootstrapServers(), fleet.topics, Map.of(),
                 Duration.ofSeconds(30), StatusReader.DEFAULT_SCAN_LIMIT, System::currentTimeMillis);
             MetricsEndpoint endpoint = MetricsEndpoint.start(fleet.registry, MetricsEndpoint.DEFAULT_HOST, DevToolsBrowser.freePort(),
                 new StatusHttpHandler(() -> reader.read(List.of("d1", "d2")), "rtb up switch-test", Duration.ofSeconds(1),
                     new SwitchHandler(new ControlIssuer(Map.of("bootstrap.servers", broker.bootstrapServers()),
                         fleet.topics, Clock.systemUTC()).pageSwitch(Duration.ofSeconds(90)))));
             DevToolsBrowser browser = DevToolsBrowser.start(chromium, Files.createTempDirectory(tmp, "profile"))) {
            fleet.startWorker().startAgent();
            ByteFs.write(join(fleet.source, utf8("before.txt")), utf8("replicated before the pause"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            String base = "http://127.0.0.1:" + endpoint.port();

            // The agent reported its root at start: the page has its pause button.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                browser.navigate(base + "/status");
                assertThat(browser.evaluate("!!document.getElementById('" + PAUSE + "')")).isEqualTo("true");
            });
            browser.click(PAUSE);
            String paused = browser.waitFor(RESULT, v -> !v.isEmpty(), Duration.ofSeconds(120));
            assertThat(paused).contains("root " + Fleet.ROOT + " of host " + Fleet.HOST).contains("paused");
            assertThat(fleet.agent.rootSwitch().why(Fleet.ROOT)).isPresent();

            // Written while paused: no destination gets it, even after longer than a sync takes.
            ByteFs.write(join(fleet.source, utf8("while-paused.txt")), utf8("must wait for the resume"));
            Thread.sleep(8_000);
            assertThat(ByteFs.exists(join(fleet.replica(fleet.d1), utf8("while-paused.txt")))).isFalse();
            assertThat(ByteFs.exists(join(fleet.replica(fleet.d2), utf8("while-paused.txt")))).isFalse();

            // The page shows the pause (the snapshot after a switch is read afresh) and offers the resume.
            browser.navigate(base + "/status");
            String row = browser.waitFor("(document.querySelector('tr[data-root=\"" + Fleet.ROOT + "\"]') || "
                + "{textContent: ''}).textContent", v -> v.contains("paused"), Duration.ofSeconds(30));
            assertThat(row).contains(Fleet.HOST).contains("status page");

            // Another site's form posting to the switch, submitted in the same browser: refused, nothing changes.
            HttpServer evil = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
            byte[] evilPage = ("<!DOCTYPE html><html><body><form method=\"post\" action=\"" + base + SwitchHandler.PATH
                + "\"><input type=\"hidden\" name=\"host\" value=\"" + Fleet.HOST + "\"><input type=\"hidden\" "
                + "name=\"root\" value=\"" + Fleet.ROOT + "\"><input type=\"hidden\" name=\"action\" value=\"resume\">"
                + "<button id=\"forged\" type=\"submit\">win a prize</button></form></body></html>")
                .getBytes(StandardCharsets.UTF_8);
            evil.createContext("/", ex -> {
                ex.getResponseHeaders().set("Content-Type", "text/html");
                ex.sendResponseHeaders(200, evilPage.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(evilPage);
                }
            });
            evil.start();
            try {
                browser.navigate("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
                browser.click("forged");
                String refused = browser.waitFor(RESULT, v -> !v.isEmpty(), Duration.ofSeconds(30));
                assertThat(refused).startsWith("refused");
                assertThat(browser.evaluate("document.getElementById('switch-result').dataset.code")).isEqualTo("403");
            } finally {
                evil.stop(0);
            }
            assertThat(fleet.agent.rootSwitch().why(Fleet.ROOT)).as("a forged resume changed nothing").isPresent();
            assertRefusedWithoutTheBrowser(base);
            assertThat(fleet.agent.rootSwitch().why(Fleet.ROOT)).isPresent();

            // Resume: the answer comes after the catch-up, and the file written while paused is everywhere.
            browser.navigate(base + "/status");
            browser.click(RESUME);
            String resumed = browser.waitFor(RESULT, v -> !v.isEmpty(), Duration.ofSeconds(180));
            assertThat(resumed).contains("resumed: caught up").contains("in 2 replica tree(s)");
            Matcher n = Pattern.compile("caught up (\\d+) changed path").matcher(resumed);
            assertThat(n.find()).isTrue();
            assertThat(Long.parseLong(n.group(1))).as(resumed).isGreaterThanOrEqualTo(2); // the file, on d1 and d2
            assertThat(fleet.agent.rootSwitch().why(Fleet.ROOT)).isEmpty();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(30));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(30));
            // And live replication is back.
            ByteFs.write(join(fleet.source, utf8("after.txt")), utf8("live again"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
        }
    }

    /** Posts a script or another site could make: no token, a wrong token, another origin, a GET. */
    private static void assertRefusedWithoutTheBrowser(String base) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create(base + SwitchHandler.PATH);
        String form = "host=" + Fleet.HOST + "&root=" + Fleet.ROOT + "&action=resume";
        HttpResponse<String> noToken = http.send(HttpRequest.newBuilder(uri).header("Content-Type",
            "application/x-www-form-urlencoded").header("Origin", "http://evil.example")
            .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).isEqualTo(403);
        HttpResponse<String> wrongToken = http.send(HttpRequest.newBuilder(uri).header("Content-Type",
            "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form + "&"
            + SwitchHandler.TOKEN_FIELD + "=guessed")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrongToken.statusCode()).isEqualTo(403);
        assertThat(wrongToken.body()).contains("token");
        HttpResponse<String> crossSite = http.send(HttpRequest.newBuilder(uri).header("Content-Type",
            "application/x-www-form-urlencoded").header("Sec-Fetch-Site", "cross-site")
            .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(crossSite.statusCode()).isEqualTo(403);
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(uri + "?" + form)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
    }
}
