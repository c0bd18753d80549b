package io.rtbackup.cli.e2e;

import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.testkit.TreeDiff;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * One source host and two authenticated rsync daemons on loopback, with the agent and worker wired exactly as
 * the CLI wires them in production, on isolated topics of the shared test broker.
 */
final class Fleet implements AutoCloseable {
    static final String HOST = "e2e-host";
    static final String ROOT = "data";

    final TempDirs tmp;
    final byte[] source;
    final RsyncDaemon d1;
    final RsyncDaemon d2;
    final Topics topics;
    /** What {@code --topic-prefix} must be for a CLI command to talk to this fleet's topics. */
    final String topicPrefix;
    final KafkaBroker broker;
    final List<SyncReport> reports = new CopyOnWriteArrayList<>();
    final PrometheusRegistry registry = new PrometheusRegistry();
    /** No part may give up during a test: {@link #close()} fails when one did. */
    final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    Agent agent;
    Worker worker;

    Fleet(KafkaBroker broker) throws IOException {
        this(broker, b -> b, b -> b);
    }

    /** A fleet whose daemons are adjusted before they start (read-only module, bandwidth limit, ...). */
    Fleet(KafkaBroker broker, UnaryOperator<RsyncDaemon.Builder> d1Options,
          UnaryOperator<RsyncDaemon.Builder> d2Options) throws IOException {
        this(broker, Map.of("bootstrap.servers", broker.bootstrapServers()), d1Options, d2Options);
    }

    /**
     * A fleet whose topics are created by a client with {@code provisioningClient} settings (a secured broker's
     * login and truststore); the agent's and worker's own kafka.* settings go in {@link #agentOverrides} and
     * {@link #workerOverrides}.
     */
    Fleet(KafkaBroker broker, Map<String, String> provisioningClient) throws IOException {
        this(broker, provisioningClient, b -> b, b -> b);
    }

    private Fleet(KafkaBroker broker, Map<String, String> provisioningClient,
          UnaryOperator<RsyncDaemon.Builder> d1Options, UnaryOperator<RsyncDaemon.Builder> d2Options)
          throws IOException {
        this.broker = broker;
        tmp = TempDirs.create("rtb-e2e");
        RsyncDaemon first = null;
        RsyncDaemon second = null;
        try {
            source = tmp.newDir(BytePaths.utf8("src"));
            first = d1Options.apply(RsyncDaemon.builder(tmp.newDir(BytePaths.utf8("daemon1")))
                .auth("backup", "first secret").module("backup", tmp.newDir(BytePaths.utf8("m1")))).start();
            second = d2Options.apply(RsyncDaemon.builder(tmp.newDir(BytePaths.utf8("daemon2")))
                .auth("backup", "second secret").module("backup", tmp.newDir(BytePaths.utf8("m2")))).start();
            topicPrefix = "e2e-" + UUID.randomUUID() + ".";
            topics = Topics.withPrefix(topicPrefix);
            TopicProvisioner.ensure(provisioningClient, topics);
        } catch (IOException | RuntimeException e) {
            // a half-built fleet must not leave daemons running behind the failed test
            if (first != null) first.close();
            if (second != null) second.close();
            tmp.close();
            throw e;
        }
        d1 = first;
        d2 = second;
    }

    /** Where the root lands on a destination: module/{host}/{root}/. */
    byte[] replica(RsyncDaemon d) {
        return BytePaths.join(d.moduleDir("backup"), BytePaths.utf8(HOST), BytePaths.utf8(ROOT));
    }

    Properties agentProperties() {
        Properties p = new Properties();
        p.setProperty("host.id", HOST);
        p.setProperty("root." + ROOT + ".path", new String(source, StandardCharsets.UTF_8));
        p.setProperty("capture.source", "fanotify");
        p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
        p.setProperty("destination.d1.url", d1.url("backup"));
        p.setProperty("destination.d2.url", d2.url("backup"));
        p.setProperty("destination.d1.timeout-s", "10");
        p.setProperty("destination.d2.timeout-s", "10");
        p.setProperty("state.dir", tmp.pathString() + "/agent-state");
        p.putAll(agentOverrides);
        return p;
    }

    /** Extra agent settings of one test, applied over {@link #agentProperties()}'s. */
    final Properties agentOverrides = new Properties();

    /**
     * Bounds each rsync run. rsync's own --timeout never fires while both ends exchange keepalives, so a deadlocked
     * rsync (as -H --fuzzy was, see RsyncPlanner) is ended only by the command timeout, whose default (30 min) is
     * longer than a test.
     */
    Fleet withCommandTimeout(Duration limit) {
        agentOverrides.setProperty("destination.d1.command-timeout-s", String.valueOf(limit.toSeconds()));
        agentOverrides.setProperty("destination.d2.command-timeout-s", String.valueOf(limit.toSeconds()));
        return this;
    }

    Map<String, String> agentEnv() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("RSYNC_PASSWORD_D1", d1.password().orElseThrow());
        env.put("RSYNC_PASSWORD_D2", d2.password().orElseThrow());
        return env;
    }

    Properties workerProperties(String workerId) {
        Properties p = new Properties();
        p.setProperty("worker.id", workerId);
        p.setProperty("destination.d1.routes", HOST + ":" + ROOT);
        p.setProperty("destination.d2.routes", "*:*");
        // Short waits so the outage tests spend seconds, not minutes, in backoff.
        p.setProperty("retry.initial-backoff-ms", "200");
        p.setProperty("retry.max-backoff-ms", "2000");
        p.setProperty("breaker.open-wait-ms", "2000");
        // rtb status and the status page read these records; the tests should not wait 5 s for one.
        p.setProperty("status.interval-ms", "500");
        p.putAll(workerOverrides);
        return p;
    }

    /** Extra worker settings of one test (e.g. kafka.* security), applied over {@link #workerProperties}'. */
    final Properties workerOverrides = new Properties();

    Fleet startAgent() throws Exception {
        agent = Agent.create(AgentConfig.from(agentProperties(), agentEnv()), topics, registry, fatal).start();
        return this;
    }

    Fleet startWorker() throws InterruptedException {
        worker = new Worker(WorkerConfig.fromProperties(workerProperties("w-" + UUID.randomUUID())), topics,
            broker.bootstrapServers(), registry, reports::add, fatal);
        worker.start();
        if (!worker.awaitReady(Duration.ofSeconds(60))) throw new AssertionError("worker not ready in 60 s");
        return this;
    }

    /** The topic prefix, as the CLI's --topic-prefix takes it. */
    String topicPrefix() {
        return topics.events().substring(0, topics.events().length() - "rtb.events".length());
    }

    /** {@code rtb agent --config F} in its own JVM, exactly as an operator runs it; output goes to {@code log}. */
    Process startAgentProcess(Path log) throws IOException {
        return startAgentProcess(log, Map.of());
    }

    /** As {@link #startAgentProcess(Path)}, with {@code env} added to the agent's environment. */
    Process startAgentProcess(Path log, Map<String, String> env) throws IOException {
        Path config = Path.of(tmp.pathString(), "agent-" + UUID.randomUUID() + ".properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            agentProperties().store(out, null);
        }
        ProcessBuilder pb = new ProcessBuilder(javaCommand("agent", "--config", config.toString(), "--topic-prefix",
            topicPrefix()));
        pb.environment().putAll(agentEnv());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    /** {@code rtb worker --config F} in its own JVM; output goes to {@code log}. */
    Process startWorkerProcess(String workerId, Path log) throws IOException {
        Path config = Path.of(tmp.pathString(), "worker-" + workerId + ".properties");
        Properties p = workerProperties(workerId);
        p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
        // A killed member holds its partitions until its session times out; keep that short here.
        p.setProperty("kafka.session.timeout.ms", "10000");
        try (OutputStream out = Files.newOutputStream(config)) {
            p.store(out, null);
        }
        ProcessBuilder pb = new ProcessBuilder(javaCommand("worker", "--config", config.toString(), "--topic-prefix",
            topicPrefix()));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    static List<String> javaCommand(String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-Xmx384m", "-cp",
            System.getProperty("java.class.path"), Rtb.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    TreeDiff.Result diff(RsyncDaemon d) throws IOException {
        return TreeDiff.defaults().withNanosecondMtime().compare(source, replica(d));
    }

    /** Waits until the destination's tree equals the source, or fails with the first difference. */
    void awaitConverged(RsyncDaemon d, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            TreeDiff.Result r;
            try {
                r = diff(d);
            } catch (IOException e) { // the replica's directory does not exist yet
                throw new AssertionError("replica on port " + d.port() + " not there yet: " + e.getMessage(), e);
            }
            if (!r.isEqual()) throw new AssertionError("replica on port " + d.port() + " differs: " + r.describe());
        });
    }

    @Override
    public void close() throws Exception {
        if (agent != null) agent.close();
        if (worker != null) worker.close();
        d1.close();
        d2.close();
        tmp.close();
        fatal.assertNone();
    }
}
