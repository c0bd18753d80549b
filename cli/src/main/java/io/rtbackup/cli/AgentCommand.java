package io.rtbackup.cli;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.process.ExitingFatalErrorHandler;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.topics.Topics;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rtb agent --config FILE}: the per-host agent against any Kafka cluster. */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = "Run the per-host agent: capture changes under the configured roots, publish them, run rsync for commands.")
final class AgentCommand implements Callable<Integer> {
    /** The metrics endpoint's threads: one scraper at a time is all an agent needs (docs/performance.md). */
    static final int METRICS_THREADS = 1;

    @Option(names = "--config", required = true, description = "Agent properties file (see README).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--metrics-port", description = "Serve Prometheus metrics on PORT; overrides metrics.port.")
    Integer metricsPort;

    @Option(names = "--metrics-host", defaultValue = MetricsEndpoint.DEFAULT_HOST,
        description = "Address the metrics port binds (default: ${DEFAULT-VALUE}; 0.0.0.0 to be scraped from outside).")
    String metricsHost;

    @Option(names = MetricsEndpoint.TOKEN_FLAG, paramLabel = "FILE", description = "Bearer token (first line; "
        + "mode 600) every request to the metrics port must send; required when --metrics-host is not loopback; "
        + "overrides metrics.token-file.")
    Path metricsTokenFile;

    @Option(names = "--state-dir", description = "Where the agent keeps its state; overrides state.dir (default "
        + AgentConfig.DEFAULT_STATE_DIR + ").")
    Path stateDir;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Override
    public Integer call() throws Exception {
        Properties props = AgentConfig.read(config);
        if (bootstrapServers != null) props.setProperty("kafka.bootstrap.servers", bootstrapServers);
        if (metricsPort != null) props.setProperty(AgentConfig.METRICS_PORT, String.valueOf(metricsPort));
        if (stateDir != null) props.setProperty(AgentConfig.STATE_DIR, stateDir.toAbsolutePath().toString());
        AgentConfig cfg = AgentConfig.from(props, System.getenv());
        PrometheusRegistry registry = new PrometheusRegistry();
        Optional<Path> tokenFile = metricsTokenFile != null ? Optional.of(metricsTokenFile)
            : Optional.ofNullable(props.getProperty(AgentConfig.METRICS_TOKEN_FILE)).map(String::trim)
                .filter(s -> !s.isEmpty()).map(Path::of);
        // what the endpoint will need, checked before anything starts: a bad host or token file fails at once
        MetricsEndpoint.check(metricsHost, cfg.metricsPort(), tokenFile);
        FatalErrorHandler fatal = ExitingFatalErrorHandler.forThisJvm("rtb agent " + cfg.capture().hostId(),
            Rtb.FATAL_EXIT_GRACE);
        Agent agent = Agent.create(cfg, Topics.withPrefix(topicPrefix), registry, fatal);
        // Watching first (issue 18): the metrics endpoint and the Kafka clients are not needed to capture, and what
        // is captured meanwhile waits in the publisher. A port already taken still ends the command (non-zero),
        // with the agent closed again.
        MetricsEndpoint metrics;
        try {
            agent.watch();
            metrics = MetricsEndpoint.start(registry, metricsHost, cfg.metricsPort(), tokenFile, null, null,
                METRICS_THREADS);
        } catch (RuntimeException | Error e) {
            agent.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            metrics.close();
            stopped.countDown();
        }, "rtb-agent-shutdown"));
        agent.start();
        stopped.await();
        return 0;
    }
}
