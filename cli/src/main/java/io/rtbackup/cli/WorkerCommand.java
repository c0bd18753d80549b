package io.rtbackup.cli;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code rtb worker --config FILE}: one stateless backup worker; run as many as the partitions allow. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run a backup worker: coalesce events, route them to destinations, issue sync commands.")
final class WorkerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, description = "Worker properties file (see README).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--metrics-port", defaultValue = "0", description = "Serve Prometheus metrics on 127.0.0.1:PORT.")
    int metricsPort;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Override
    public Integer call() throws Exception {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--config: cannot read " + config + ": " + e.getMessage());
        }
        String bootstrap = bootstrapServers != null ? bootstrapServers : props.getProperty("kafka.bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ParameterException(spec.commandLine(),
                "no Kafka address: set kafka.bootstrap.servers in " + config + " or pass --bootstrap-servers");
        }
        props.remove("kafka.bootstrap.servers");
        WorkerConfig cfg = WorkerConfig.fromProperties(props);
        Topics topics = Topics.withPrefix(topicPrefix);
        TopicProvisioner.ensure(bootstrap, topics);
        PrometheusRegistry registry = new PrometheusRegistry();
        MetricsEndpoint metrics = MetricsEndpoint.start(registry, metricsPort);
        Worker worker = new Worker(cfg, topics, bootstrap, registry);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            metrics.close();
            stopped.countDown();
        }, "rtb-worker-shutdown"));
        worker.start();
        stopped.await();
        return 0;
    }
}
