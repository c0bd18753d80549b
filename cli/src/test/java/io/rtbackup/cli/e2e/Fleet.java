package io.rtbackup.cli.e2e;

import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.testkit.TreeDiff;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

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
    Agent agent;
    Worker worker;

    Fleet(KafkaBroker broker) throws IOException {
        this.broker = broker;
        tmp = TempDirs.create("rtb-e2e");
        source = tmp.newDir(BytePaths.utf8("src"));
        d1 = RsyncDaemon.builder(tmp.newDir(BytePaths.utf8("daemon1"))).auth("backup", "first secret")
            .module("backup", tmp.newDir(BytePaths.utf8("m1"))).start();
        d2 = RsyncDaemon.builder(tmp.newDir(BytePaths.utf8("daemon2"))).auth("backup", "second secret")
            .module("backup", tmp.newDir(BytePaths.utf8("m2"))).start();
        topicPrefix = "e2e-" + UUID.randomUUID() + ".";
        topics = Topics.withPrefix(topicPrefix);
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
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
        return p;
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
        return p;
    }

    Fleet startAgent() throws Exception {
        agent = Agent.create(AgentConfig.from(agentProperties(), agentEnv()), topics, registry).start();
        return this;
    }

    Fleet startWorker() throws InterruptedException {
        worker = new Worker(WorkerConfig.fromProperties(workerProperties("w-" + UUID.randomUUID())), topics,
            broker.bootstrapServers(), registry, reports::add);
        worker.start();
        if (!worker.awaitReady(Duration.ofSeconds(60))) throw new AssertionError("worker not ready in 60 s");
        return this;
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
    }
}
