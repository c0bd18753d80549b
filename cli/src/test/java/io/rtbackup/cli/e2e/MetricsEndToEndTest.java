package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The metrics an operator watches, scraped over real HTTP from the endpoint the CLI serves (same library,
 * same registry wiring) while the fleet does real work: the counters must show that work.
 */
@ExtendWith(KafkaBrokerExtension.class)
class MetricsEndToEndTest {
    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Sum of the samples of {@code name} whose labels include {@code labels}. */
    static double value(String exposition, String name, Map<String, String> labels) {
        double sum = 0;
        Matcher m = SAMPLE.matcher(exposition);
        while (m.find()) {
            if (!m.group(1).equals(name)) continue;
            Map<String, String> have = new HashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) have.put(l.group(1), l.group(2));
            }
            if (have.entrySet().containsAll(labels.entrySet())) sum += Double.parseDouble(m.group(3));
        }
        return sum;
    }

    static String scrape(HttpClient http, int port) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void countersShowTheWorkDone(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker);
             HTTPServer server = HTTPServer.builder().hostname("127.0.0.1").port(0).registry(fleet.registry)
                 .buildAndStart()) {
            HttpClient http = HttpClient.newHttpClient();
            fleet.startWorker().startAgent();
            for (int i = 0; i < 5; i++) ByteFs.write(join(fleet.source, utf8("file-" + i)), utf8("content " + i));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            // Results reach the worker a moment after the replica is complete: poll the endpoint, as Prometheus would.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
                String text = scrape(http, server.getPort());
                assertThat(value(text, "rtb_agent_events_captured_total", Map.of("source", "fanotify")))
                    .as("events captured by fanotify").isPositive();
                assertThat(value(text, "rtb_agent_events_published_total", Map.of())).as("events published").isPositive();
                for (String dest : new String[] {"d1", "d2"}) {
                    assertThat(value(text, "rtb_agent_commands_total", Map.of("destination", dest, "outcome", "ok")))
                        .as("commands ok to %s", dest).isPositive();
                    assertThat(value(text, "rtb_worker_commands_issued_total", Map.of("destination", dest)))
                        .as("commands issued to %s", dest).isPositive();
                    assertThat(value(text, "rtb_agent_rsync_bytes_sent_total", Map.of("destination", dest)))
                        .as("bytes rsync sent to %s", dest).isPositive();
                    assertThat(value(text, "rtb_worker_bytes_sent_total", Map.of("destination", dest)))
                        .as("bytes sent to %s as reported to the worker", dest).isPositive();
                    assertThat(value(text, "rtb_agent_commands_total", Map.of("destination", dest, "outcome", "failed")))
                        .as("failed commands to %s", dest).isZero();
                }
            });
        }
    }
}
