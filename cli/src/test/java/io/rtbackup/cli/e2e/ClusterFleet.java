package io.rtbackup.cli.e2e;

import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.KafkaCluster;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TreeDiff;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;

/**
 * A multi-host fleet on a {@link KafkaCluster}: three source hosts, each an {@code rtb agent} JVM (fanotify) with one
 * root; two authenticated rsync daemons on loopback, both receiving every host; two workers in this JVM sharing both
 * destinations' consumer groups. Every client gets all three bootstrap servers; the topics are provisioned from the
 * catalog. {@link #startWorkload} keeps every host changing files ({@link Workload} in root {@code data}) and writes
 * a {@link ReplicationPause} heartbeat (in root {@code beat}); {@link #finish} stops both and compares every replica
 * of both roots with its source.
 */
final class ClusterFleet implements AutoCloseable {
    static final int HOSTS = 3;
    private static final String ROOT = "data";
    /**
     * The heartbeat's own root: a run of the workload's root that takes long for a reason of its own (a command
     * timeout on rsync, say) then holds back neither the heartbeat nor the pause measured with it.
     */
    private static final String BEAT = "beat";

    /** What a scenario ended with: every replica equal to its source, and how many paths differed at the end. */
    record Outcome(boolean converged, int lost, String firstDifference) {
    }

    final KafkaCluster cluster;
    final Topics topics;
    final String prefix;
    final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    private final Path dir;
    private final List<RsyncDaemon> daemons = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private final List<Process> agents = new ArrayList<>();
    /** host:root to the root's source directory. */
    private final Map<String, Path> sources = new LinkedHashMap<>();
    private final AtomicBoolean changing = new AtomicBoolean();
    private final AtomicReference<Throwable> workloadFailure = new AtomicReference<>();
    private final List<Thread> workloadThreads = new ArrayList<>();
    private final List<Workload> workloads = new ArrayList<>();
    private ReplicationPause pause;

    ClusterFleet(KafkaCluster cluster, Path dir) throws Exception {
        this.cluster = cluster;
        this.dir = dir;
        this.prefix = "cluster-" + UUID.randomUUID() + ".";
        this.topics = Topics.withPrefix(prefix);
        try {
            start();
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private void start() throws Exception {
        for (int d = 1; d <= 2; d++) {
            daemons.add(RsyncDaemon.builder(utf8(Files.createDirectories(dir.resolve("daemon" + d))))
                .auth("backup", "cluster secret " + d)
                .module("backup", utf8(Files.createDirectories(dir.resolve("m" + d)))).start());
        }
        TopicProvisioner.ensure(cluster.bootstrapServers(), topics);
        for (int w = 1; w <= 2; w++) {
            Properties p = new Properties();
            p.setProperty("worker.id", "cluster-w" + w);
            p.setProperty("destination.d1.routes", "*:*");
            p.setProperty("destination.d2.routes", "*:*");
            p.setProperty("retry.initial-backoff-ms", "200");
            p.setProperty("retry.max-backoff-ms", "2000");
            p.setProperty("breaker.open-wait-ms", "2000");
            Worker worker = new Worker(WorkerConfig.fromProperties(p), topics, cluster.bootstrapServers(),
                new PrometheusRegistry(), fatal);
            workers.add(worker);
            worker.start();
        }
        for (Worker w : workers) {
            if (!w.awaitReady(Duration.ofSeconds(120))) throw new AssertionError("worker not ready in 120 s");
        }
        for (int h = 1; h <= HOSTS; h++) {
            String host = "h" + h;
            sources.put(host + ":" + ROOT, Files.createDirectories(dir.resolve("src-" + host + "-" + ROOT)));
            sources.put(host + ":" + BEAT, Files.createDirectories(dir.resolve("src-" + host + "-" + BEAT)));
            agents.add(startAgent(host));
        }
        for (int h = 1; h <= HOSTS; h++) FaultScenariosTest.awaitLog(agentLog("h" + h), "agent up");
    }

    private Process startAgent(String host) throws IOException {
        Properties p = new Properties();
        p.setProperty("host.id", host);
        for (String root : List.of(ROOT, BEAT)) {
            p.setProperty("root." + root + ".path", sources.get(host + ":" + root).toString());
        }
        p.setProperty("capture.source", "fanotify");
        p.setProperty("kafka.bootstrap.servers", cluster.bootstrapServers());
        p.setProperty("state.dir", dir.resolve("state-" + host).toString());
        for (int d = 1; d <= 2; d++) {
            p.setProperty("destination.d" + d + ".url", daemons.get(d - 1).url("backup"));
            p.setProperty("destination.d" + d + ".timeout-s", "10");
            p.setProperty("destination.d" + d + ".command-timeout-s", "60");
        }
        Path config = dir.resolve("agent-" + host + ".properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            p.store(out, null);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1", "-Xmx192m", "-cp", System.getProperty("java.class.path"),
            io.rtbackup.cli.Rtb.class.getName(), "agent", "--config", config.toString(), "--topic-prefix", prefix));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(agentLog(host).toFile()));
        for (int d = 1; d <= 2; d++) {
            pb.environment().put("RSYNC_PASSWORD_D" + d, daemons.get(d - 1).password().orElseThrow());
        }
        return pb.start();
    }

    Path agentLog(String host) {
        return dir.resolve("agent-" + host + ".log");
    }

    /** Where {@code hostRoot} (host:root) lands on daemon {@code d}. */
    private static Path replica(RsyncDaemon d, String hostRoot) {
        String[] hr = hostRoot.split(":");
        return Path.of(new String(d.moduleDir("backup"), StandardCharsets.UTF_8)).resolve(hr[0]).resolve(hr[1]);
    }

    /** The catalog's replication for a fleet, as the cluster really holds it: every partition's replicas, min ISR. */
    Map<String, String> replicationOfEveryTopic() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> names = List.of(topics.events(), topics.commands(), topics.results(), topics.dlq(),
            topics.status());
        try (Admin admin = cluster.admin()) {
            Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            for (String name : names) {
                Config c = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, name))).all()
                    .get(30, TimeUnit.SECONDS).values().iterator().next();
                String rfs = d.get(name).partitions().stream().map(p -> String.valueOf(p.replicas().size()))
                    .distinct().reduce((a, b) -> a + "/" + b).orElse("?");
                out.put(name.substring(prefix.length()), "rf=" + rfs + " min.insync.replicas="
                    + c.get("min.insync.replicas").value());
            }
        }
        return out;
    }

    List<String> topicNames() {
        return List.of(topics.events(), topics.commands(), topics.results(), topics.dlq(), topics.status(),
            "__consumer_offsets");
    }

    /** Every host changes files and the heartbeat runs; returns once every replica shows a heartbeat. */
    void startWorkload(long seed) {
        changing.set(true);
        Map<Path, List<Path>> replicas = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Path> e : sources.entrySet()) {
            if (e.getKey().endsWith(":" + BEAT)) {
                replicas.put(e.getValue(), daemons.stream().map(d -> replica(d, e.getKey())).toList());
                continue;
            }
            Workload w = new Workload(utf8(e.getValue()), seed + i++);
            workloads.add(w);
            Thread t = new Thread(() -> {
                try {
                    while (changing.get()) {
                        w.step();
                        Thread.sleep(100);
                    }
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } catch (IOException | RuntimeException ex) {
                    workloadFailure.set(ex);
                }
            }, "workload-" + e.getKey());
            workloadThreads.add(t);
            t.start();
        }
        pause = new ReplicationPause(replicas);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(pause::flowing);
    }

    /** The leader of the {@code rtb.events} partition with the most records: the busiest one. */
    int leaderOfBusiestEventsPartition() throws Exception {
        try (Admin admin = cluster.admin()) {
            TopicDescription d = admin.describeTopics(List.of(topics.events())).allTopicNames()
                .get(30, TimeUnit.SECONDS).get(topics.events());
            Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
            for (TopicPartitionInfo p : d.partitions()) {
                latest.put(new TopicPartition(topics.events(), p.partition()), OffsetSpec.latest());
            }
            var offsets = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            TopicPartitionInfo busiest = d.partitions().stream().max((a, b) -> Long.compare(
                offsets.get(new TopicPartition(topics.events(), a.partition())).offset(),
                offsets.get(new TopicPartition(topics.events(), b.partition())).offset())).orElseThrow();
            return busiest.leader().id();
        }
    }

    /** Workload operations applied on all hosts so far. */
    int operationsApplied() {
        return workloads.stream().mapToInt(Workload::applied).sum();
    }

    ReplicationPause pause() {
        return pause;
    }

    /**
     * Stops the workload and the heartbeat, then waits up to {@code timeout} until every replica equals its source;
     * the outcome counts the paths that still differ (0 when converged).
     */
    Outcome finish(Duration timeout) throws Exception {
        changing.set(false);
        for (Thread t : workloadThreads) t.join(30_000);
        pause.stopWriting();
        if (workloadFailure.get() != null) throw new AssertionError("workload failed", workloadFailure.get());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int lost = 0;
            String first = "";
            for (RsyncDaemon d : daemons) {
                for (Map.Entry<String, Path> e : sources.entrySet()) {
                    Path replica = replica(d, e.getKey());
                    TreeDiff.Result r;
                    try {
                        r = TreeDiff.defaults().withNanosecondMtime().compare(utf8(e.getValue()), utf8(replica));
                    } catch (IOException ex) {
                        lost += 1;
                        first = replica + " missing";
                        continue;
                    }
                    lost += r.differences().size();
                    if (!r.isEqual() && first.isEmpty()) {
                        first = e.getKey() + " on port " + d.port() + ": " + r.describe();
                    }
                }
            }
            if (lost == 0) return new Outcome(true, 0, "");
            if (System.nanoTime() > deadline) return new Outcome(false, lost, first);
            Thread.sleep(500);
        }
    }

    /** The agents still running (an agent that gave up exits non-zero). */
    List<String> deadAgents() {
        List<String> dead = new ArrayList<>();
        for (int h = 1; h <= HOSTS; h++) {
            Process a = agents.get(h - 1);
            if (!a.isAlive()) dead.add("h" + h + " exited " + a.exitValue());
        }
        return dead;
    }

    /**
     * Copies the agents' and the brokers' logs to {@code target/cluster-failover/<scenario>/} (the test's own
     * directory goes with it), for a look at where a pause came from.
     */
    void keepLogs(String scenario) throws IOException {
        Path to = Files.createDirectories(Path.of("target", "cluster-failover", scenario));
        for (int h = 1; h <= HOSTS; h++) {
            if (Files.exists(agentLog("h" + h))) {
                Files.copy(agentLog("h" + h), to.resolve("agent-h" + h + ".log"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        for (int id = 1; id <= KafkaCluster.SIZE; id++) {
            if (Files.exists(cluster.logFile(id))) {
                Files.copy(cluster.logFile(id), to.resolve("node-" + id + ".log"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static byte[] utf8(Path p) {
        return BytePaths.utf8(p.toString());
    }

    @Override
    public void close() throws Exception {
        changing.set(false);
        for (Thread t : workloadThreads) t.join(30_000);
        if (pause != null) pause.close();
        for (Process a : agents) a.destroy();
        for (Process a : agents) {
            if (!a.waitFor(15, TimeUnit.SECONDS)) a.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (Worker w : workers) w.close();
        for (RsyncDaemon d : daemons) d.close();
    }
}
