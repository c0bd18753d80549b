package io.rtbackup.cli;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.kafka.KafkaAccessErrors;
import io.rtbackup.process.ExitingFatalErrorHandler;
import io.rtbackup.status.StatusHttpHandler;
import io.rtbackup.status.SwitchHandler;
import io.rtbackup.status.StatusReader;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.pipeline.PipelineStatus;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb worker --config FILE}: one stateless backup worker; run as many as the partitions allow. Flags
 * override the file ({@code --worker-id} over {@code worker.id}, {@code --metrics-port} over {@code metrics.port},
 * {@code --metrics-host} over {@code metrics.host}, {@code --metrics-token-file} over {@code metrics.token-file},
 * {@code --bootstrap-servers} over {@code kafka.bootstrap.servers}).
 *
 * <p>The worker id names the worker's place in each destination's consumer group: a worker restarted under the
 * same id takes its place over at once. Two live workers with one id do not share: the later one takes over, and
 * the earlier one ends as any worker that cannot go on does: non-zero (70, {@code ExitingFatalErrorHandler}),
 * naming the id.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run a backup worker: coalesce events, route them to destinations, issue sync commands.")
final class WorkerCommand implements Callable<Integer> {
    static final String METRICS_PORT = "metrics.port";
    static final String METRICS_HOST = "metrics.host";
    static final String METRICS_TOKEN_FILE = MetricsEndpoint.TOKEN_KEY;
    /** Kafka turned the worker away (login or ACLs); the message names the settings to check. */
    static final int EXIT_REFUSED = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, description = "Worker properties file (see README).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--worker-id", description = "This worker's id; overrides worker.id (e.g. the pod name, so one "
        + "config serves several replicas).")
    String workerId;

    @Option(names = "--metrics-port", description = "Serve Prometheus metrics (/metrics), the probes (/-/healthy, "
        + "/-/ready) and the status page (/status, /status.json) on this port; overrides metrics.port (default: none).")
    Integer metricsPort;

    @Option(names = "--metrics-host", description = "Address the metrics port binds; overrides metrics.host "
        + "(default: 127.0.0.1; 0.0.0.0 to be scraped from outside, e.g. in Kubernetes).")
    String metricsHost;

    @Option(names = MetricsEndpoint.TOKEN_FLAG, paramLabel = "FILE", description = "Bearer token (first line; "
        + "mode 600) every request to the metrics port must send; required when --metrics-host is not loopback; "
        + "overrides metrics.token-file.")
    Path metricsTokenFile;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Override
    public Integer call() throws Exception {
        Properties props = PropertiesFile.load(spec, config);
        String bootstrap = bootstrapServers != null ? bootstrapServers : props.getProperty("kafka.bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ParameterException(spec.commandLine(),
                "no Kafka address: set kafka.bootstrap.servers in " + config + " or pass --bootstrap-servers");
        }
        props.remove("kafka.bootstrap.servers");
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith("metrics.") && !key.equals(METRICS_PORT) && !key.equals(METRICS_HOST)
                    && !key.equals(METRICS_TOKEN_FILE)) {
                throw new ParameterException(spec.commandLine(), config + ": unknown key '" + key + "' (known: "
                    + METRICS_PORT + ", " + METRICS_HOST + ", " + METRICS_TOKEN_FILE + ")");
            }
        }
        if (workerId != null) props.setProperty("worker.id", workerId);
        int port = metricsPort != null ? metricsPort : port(props.getProperty(METRICS_PORT));
        String host = metricsHost != null ? metricsHost
            : props.getProperty(METRICS_HOST, MetricsEndpoint.DEFAULT_HOST).trim();
        Optional<Path> tokenFile = metricsTokenFile != null ? Optional.of(metricsTokenFile)
            : Optional.ofNullable(props.getProperty(METRICS_TOKEN_FILE)).map(String::trim).filter(s -> !s.isEmpty())
                .map(Path::of);
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--metrics-port must be 0-65535, got " + port);
        }
        WorkerConfig cfg = WorkerConfig.fromProperties(props);
        Topics topics = Topics.withPrefix(topicPrefix);
        PrometheusRegistry registry = new PrometheusRegistry();
        List<String> destinations = cfg.destinations().stream().map(DestinationConfig::name).toList();
        // The page shows the whole fleet as Kafka has it (every worker's records, every group's lag), not only
        // this worker's memory: any worker's page answers "is my backup current?".
        StatusReader statusReader = port == 0 ? null : new StatusReader(bootstrap, topics, cfg.kafka(),
            Duration.ofSeconds(15), StatusReader.DEFAULT_SCAN_LIMIT, System::currentTimeMillis);
        // Ready (/-/ready) once every destination's consumer joined its group; it stays so through a broker outage.
        AtomicReference<Worker> started = new AtomicReference<>();
        MetricsEndpoint metrics;
        try {
            metrics = MetricsEndpoint.start(registry, host, port, tokenFile, statusReader == null ? null
                : new StatusHttpHandler(() -> statusReader.read(destinations), "rtb worker " + cfg.workerId(),
                    Duration.ofSeconds(2), new SwitchHandler(new ControlIssuer(switchClient(bootstrap, cfg.kafka()),
                        topics, Clock.systemUTC(), cfg.signing().signer()).pageSwitch(Duration.ofMinutes(10)))),
                () -> started.get() != null && started.get().status().values().stream().allMatch(PipelineStatus::ready));
        } catch (RuntimeException e) {
            if (statusReader != null) statusReader.close();
            if (e instanceof IllegalArgumentException) throw new ParameterException(spec.commandLine(), e.getMessage());
            throw e;
        }
        Worker worker;
        try {
            Map<String, String> client = new LinkedHashMap<>(cfg.kafka());
            client.put("bootstrap.servers", bootstrap);
            TopicProvisioner.ensure(client, topics);
            worker = new Worker(cfg, topics, bootstrap, registry,
                ExitingFatalErrorHandler.forThisJvm("rtb worker " + cfg.workerId(), Rtb.FATAL_EXIT_GRACE));
        } catch (RuntimeException e) {
            metrics.close();
            if (statusReader != null) statusReader.close();
            Optional<String> refused = KafkaAccessErrors.explain(e);
            if (refused.isEmpty()) throw e;
            spec.commandLine().getErr().println("rtb worker: " + refused.get());
            spec.commandLine().getErr().flush();
            return EXIT_REFUSED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            metrics.close();
            if (statusReader != null) statusReader.close();
            stopped.countDown();
        }, "rtb-worker-shutdown"));
        worker.start();
        started.set(worker);
        stopped.await();
        return 0;
    }

    /** {@code metrics.port} of the file; its errors name the key, as every config error does. */
    private int port(String value) {
        if (value == null || value.isBlank()) return 0;
        try {
            int p = Integer.parseInt(value.trim());
            if (p < 0 || p > 65535) throw new NumberFormatException();
            return p;
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), config + ": " + METRICS_PORT
                + " must be a port number 1-65535 (0 or unset: no endpoint), got '" + value.trim() + "'");
        }
    }

    /** The page's switch writes the control topic with this worker's login (which rtb acl allows to). */
    private static Map<String, Object> switchClient(String bootstrap, Map<String, String> kafka) {
        Map<String, Object> client = new java.util.HashMap<>(kafka);
        client.put("bootstrap.servers", bootstrap);
        return client;
    }
}
