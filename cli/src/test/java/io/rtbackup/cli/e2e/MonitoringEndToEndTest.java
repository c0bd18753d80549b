package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.rtbackup.agent.capture.kmod.KmodMetrics;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.PromqlNames;
import io.rtbackup.fs.ByteFs;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The shipped monitoring files against the metrics the code registers: every metric the dashboard's queries and
 * the alert rules' expressions name is one a real worker and agent (wired as the CLI wires them) expose, and a
 * real {@code rtb worker} process answers the probes its Kubernetes manifest points at.
 */
@ExtendWith(KafkaBrokerExtension.class)
class MonitoringEndToEndTest {
    static final Path MONITORING = Path.of(System.getProperty("rtb.repo.root", "..")).toAbsolutePath().normalize()
        .resolve("packaging/monitoring");
    /** Series Prometheus adds to every scrape itself; the rules may use these. */
    static final Set<String> SCRAPE_SERIES = Set.of("up");
    private static final Pattern SAMPLE_NAME = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

    /** The series names a registry's metrics expose, whether or not they have samples yet. */
    static Set<String> exposedNames(PrometheusRegistry registry) {
        Set<String> names = new TreeSet<>();
        for (MetricSnapshot s : registry.scrape()) {
            String n = s.getMetadata().getPrometheusName();
            if (s instanceof CounterSnapshot) {
                names.add(n + "_total");
            } else if (s instanceof HistogramSnapshot) {
                names.addAll(List.of(n + "_bucket", n + "_count", n + "_sum"));
            } else if (s instanceof SummarySnapshot) {
                names.addAll(List.of(n, n + "_count", n + "_sum"));
            } else if (s instanceof InfoSnapshot) {
                names.add(n + "_info");
            } else {
                names.add(n);
            }
        }
        return names;
    }

    /** Metric names per place they are used: "dashboard: panel title" or "rules: alert name". */
    static Map<String, Set<String>> namesInMonitoringFiles() throws IOException {
        Map<String, Set<String>> used = new TreeMap<>();
        JsonNode dash = new ObjectMapper().readTree(MONITORING.resolve("rtbackup-dashboard.json").toFile());
        for (JsonNode panel : dash.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                used.computeIfAbsent("dashboard: " + panel.get("title").asText(), k -> new TreeSet<>())
                    .addAll(PromqlNames.of(target.get("expr").asText()));
            }
        }
        Pattern labelValues = Pattern.compile("label_values\\(\\s*([^,)]+)");
        for (JsonNode variable : dash.get("templating").get("list")) {
            String query = variable.path("query").path("query").asText(variable.path("query").asText());
            Matcher m = labelValues.matcher(query);
            if (variable.path("type").asText().equals("query") && m.find()) {
                used.computeIfAbsent("dashboard: variable " + variable.get("name").asText(), k -> new TreeSet<>())
                    .addAll(PromqlNames.of(m.group(1)));
            }
        }
        Map<String, Object> rules = new Yaml(new SafeConstructor(new LoaderOptions()))
            .load(Files.readString(MONITORING.resolve("rtbackup-alerts.yml")));
        for (Object group : (List<?>) rules.get("groups")) {
            for (Object rule : (List<?>) ((Map<?, ?>) group).get("rules")) {
                Map<?, ?> r = (Map<?, ?>) rule;
                used.computeIfAbsent("rules: " + r.get("alert"), k -> new TreeSet<>())
                    .addAll(PromqlNames.of(String.valueOf(r.get("expr"))));
            }
        }
        return used;
    }

    @Test
    void dashboardAndAlertsNameOnlyMetricsTheWorkerAndAgentExpose(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker);
             HTTPServer server = HTTPServer.builder().hostname("127.0.0.1").port(0).registry(fleet.registry)
                 .buildAndStart()) {
            fleet.startWorker().startAgent();
            // The kmod source registers its counters only on hosts that load the module; register them as it does.
            if (!exposedNames(fleet.registry).contains("rtb_kmod_records_total")) KmodMetrics.register(fleet.registry);
            ByteFs.write(join(fleet.source, utf8("monitored")), utf8("a change the metrics count"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            Set<String> exposed = exposedNames(fleet.registry);

            // The derivation above agrees with what the endpoint really serves, for every metric with samples.
            String text = MetricsEndToEndTest.scrape(HttpClient.newHttpClient(), server.getPort());
            Set<String> served = new TreeSet<>();
            Matcher m = SAMPLE_NAME.matcher(text);
            while (m.find()) served.add(m.group(1));
            assertThat(served).contains("rtb_worker_lag_events", "rtb_agent_events_published_total",
                "rtb_worker_change_to_replica_seconds_bucket");
            assertThat(exposed).containsAll(served);

            Map<String, Set<String>> used = namesInMonitoringFiles();
            assertThat(used).containsKeys("rules: RtbackupReplicationLagHigh", "rules: RtbackupBreakerOpen",
                "dashboard: Events not yet replicated", "dashboard: variable destination");
            List<String> unknown = new ArrayList<>();
            used.forEach((where, names) -> {
                assertThat(names).as("%s names a metric", where).isNotEmpty();
                names.stream().filter(n -> !exposed.contains(n) && !SCRAPE_SERIES.contains(n))
                    .forEach(n -> unknown.add(where + ": " + n));
            });
            assertThat(unknown).as("metrics no worker or agent exposes (exposed: %s)", exposed).isEmpty();
            // Each of the worker's and agent's main signals is watched somewhere.
            Set<String> all = new TreeSet<>();
            used.values().forEach(all::addAll);
            assertThat(all).contains("rtb_worker_lag_events", "rtb_worker_breaker_state", "rtb_worker_dlq_records_total",
                "rtb_agent_publish_errors_total", "rtb_agent_events_dropped_to_rescan_total", "up");
        }
    }

    @Test
    void aWorkerProcessAnswersItsProbes(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            int port = freePort();
            Path config = Path.of(fleet.tmp.pathString(), "worker-probes.properties");
            Properties p = fleet.workerProperties("probes");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            p.setProperty("metrics.port", String.valueOf(port));
            try (OutputStream out = Files.newOutputStream(config)) {
                p.store(out, null);
            }
            Path log = Path.of(fleet.tmp.pathString(), "worker-probes.log");
            Process worker = new ProcessBuilder(Fleet.javaCommand("worker", "--config", config.toString(),
                "--topic-prefix", fleet.topicPrefix())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try {
                HttpClient http = HttpClient.newHttpClient();
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(get(http, port, "/-/ready").statusCode()).isEqualTo(200));
                assertThat(get(http, port, "/-/healthy").statusCode()).isEqualTo(200);
                HttpResponse<String> metrics = get(http, port, "/metrics");
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).contains("rtb_worker_breaker_state{destination=\"d1\"}");
                assertThat(get(http, port, "/status.json").statusCode()).as("the status page is still served")
                    .isEqualTo(200);
                assertThat(worker.isAlive()).as(Files.readString(log)).isTrue();
            } finally {
                worker.destroy();
                if (!worker.waitFor(30, TimeUnit.SECONDS)) worker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
