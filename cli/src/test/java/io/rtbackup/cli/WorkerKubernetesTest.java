package io.rtbackup.cli;

import static io.rtbackup.cli.PackagingTest.REPO;
import static io.rtbackup.cli.PackagingTest.map;
import static io.rtbackup.cli.PackagingTest.parseRtb;
import static io.rtbackup.cli.PackagingTest.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The worker's Kubernetes objects around its Deployment (packaging/k8s): probes on paths the metrics endpoint
 * answers, a Service and ServiceMonitor that reach its metrics port under the job the alert rules select, and a
 * PodDisruptionBudget over its pods. Like {@link PackagingTest}, without a cluster: checked against the CLI and
 * the real endpoint.
 */
class WorkerKubernetesTest {
    /** Every document of a manifest file, by kind (one of each kind per file). */
    static Map<String, Map<String, Object>> manifests(String file) throws IOException {
        Map<String, Map<String, Object>> byKind = new HashMap<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(REPO.resolve(file)))) {
            byKind.put(String.valueOf(map(doc).get("kind")), map(doc));
        }
        return byKind;
    }

    @Test
    void kubernetesWorkersAreProbedScrapedAndDrainedOneAtATime() throws Exception {
        Map<String, Object> deployment = manifests("packaging/k8s/worker-deployment.yaml").get("Deployment");
        Map<String, Object> template = map(map(deployment.get("spec")).get("template"));
        Map<String, Object> podLabels = map(map(template.get("metadata")).get("labels"));
        Map<String, Object> container = map(((List<?>) map(template.get("spec")).get("containers")).get(0));
        Integer metricsPort = parseRtb(strings(container.get("args"))).matchedOptionValue("--metrics-port", (Integer) null);
        Map<String, Object> namedPort = ((List<?>) container.get("ports")).stream().map(PackagingTest::map)
            .filter(p -> metricsPort.equals(p.get("containerPort"))).findFirst().orElseThrow();
        String portName = String.valueOf(namedPort.get("name"));

        // The probes ask the worker's metrics port for paths the endpoint answers: readiness and liveness differ.
        Map<String, Object> readiness = map(map(container.get("readinessProbe")).get("httpGet"));
        Map<String, Object> liveness = map(map(container.get("livenessProbe")).get("httpGet"));
        assertThat(readiness.get("port")).isEqualTo(portName);
        assertThat(liveness.get("port")).isEqualTo(portName);
        assertThat(readiness.get("path")).isEqualTo(MetricsEndpoint.READY_PATH);
        assertThat(liveness.get("path")).isEqualTo("/-/healthy");
        AtomicBoolean ready = new AtomicBoolean();
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new PrometheusRegistry(),
            MetricsEndpoint.DEFAULT_HOST, freePort(), Optional.empty(), null, ready::get)) {
            assertThat(status(endpoint.port(), String.valueOf(readiness.get("path")))).isEqualTo(503);
            assertThat(status(endpoint.port(), String.valueOf(liveness.get("path")))).isEqualTo(200);
            ready.set(true);
            assertThat(status(endpoint.port(), String.valueOf(readiness.get("path")))).isEqualTo(200);
        }

        // The Service selects the Deployment's pods and exposes their metrics port under its name.
        Map<String, Object> service = manifests("packaging/k8s/worker-service.yaml").get("Service");
        Map<String, Object> serviceSpec = map(service.get("spec"));
        assertThat(podLabels).containsAllEntriesOf(map(serviceSpec.get("selector")));
        Map<String, Object> servicePort = map(((List<?>) serviceSpec.get("ports")).get(0));
        assertThat(servicePort.get("targetPort")).isIn(portName, metricsPort);
        assertThat(servicePort.get("port")).isEqualTo(metricsPort);

        // The ServiceMonitor selects that Service and scrapes /metrics on its port; the job it makes (the
        // Service's name) is the one the shipped alert rules select.
        Map<String, Object> monitorSpec = map(manifests("packaging/k8s/worker-servicemonitor.yaml").get("ServiceMonitor").get("spec"));
        assertThat(map(map(service.get("metadata")).get("labels")))
            .containsAllEntriesOf(map(map(monitorSpec.get("selector")).get("matchLabels")));
        Map<String, Object> endpoint = map(((List<?>) monitorSpec.get("endpoints")).get(0));
        assertThat(endpoint.get("port")).isEqualTo(servicePort.get("name"));
        assertThat(endpoint.get("path")).isEqualTo("/metrics");
        String job = String.valueOf(map(service.get("metadata")).get("name"));
        assertThat(Files.readString(REPO.resolve("packaging/monitoring/rtbackup-alerts.yml")))
            .contains("up{job=\"" + job + "\"}");

        // The budget covers the Deployment's pods and leaves all but one of its replicas running.
        Map<String, Object> pdbSpec = map(manifests("packaging/k8s/worker-pdb.yaml").get("PodDisruptionBudget").get("spec"));
        assertThat(podLabels).containsAllEntriesOf(map(map(pdbSpec.get("selector")).get("matchLabels")));
        assertThat(map(deployment.get("spec")).get("selector"))
            .isEqualTo(map(pdbSpec.get("selector")));
        assertThat((Integer) pdbSpec.get("maxUnavailable")).isPositive()
            .isLessThan((Integer) map(deployment.get("spec")).get("replicas"));
    }

    private static int status(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
