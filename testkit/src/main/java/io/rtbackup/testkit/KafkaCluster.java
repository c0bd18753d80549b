package io.rtbackup.testkit;

import io.rtbackup.broker.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A three-node KRaft cluster for tests: each node is broker and controller in one, a child JVM running Kafka's own
 * {@code kafka.Kafka} main ({@link KafkaNodeMain}) with this JVM's class path, its own log dir and ports, and all
 * three as quorum voters. Nodes start from rtbackup's shipped {@code server.properties} with what a cluster needs
 * on top: node id, listeners, voters, and replication 3 / min.insync.replicas 2 for the internal topics and as
 * the broker default. On loopback ({@link #startOnLoopback}) every node has free ports on 127.0.0.1; in network
 * namespaces ({@link #startInNamespaces}) node N listens on its namespace's address, so the test can cut one node
 * off the network. A node can be SIGKILLed ({@link #kill}), stopped cleanly ({@link #stop}) and started again on its
 * log dir ({@link #start}). Each node's output goes to {@code node-N.log} in the cluster's directory.
 */
public final class KafkaCluster implements KafkaBroker {
    public static final int SIZE = 3;
    private static final Logger log = LoggerFactory.getLogger(KafkaCluster.class);
    private static final Duration START = Duration.ofSeconds(120);

    /** Where node {@code id} listens, and the namespace it runs in (loopback nodes run in this one). */
    public record NodeAddress(int id, String host, int port, int controllerPort, Optional<String> namespace) {
        String hostPort() {
            return host + ":" + port;
        }
    }

    private final Path dir;
    private final List<NodeAddress> nodes;
    private final Process[] processes = new Process[SIZE + 1];

    private KafkaCluster(Path dir, List<NodeAddress> nodes) {
        this.dir = dir;
        this.nodes = List.copyOf(nodes);
    }

    /** Three nodes on free ports of 127.0.0.1, formatted under {@code dir} and started. */
    public static KafkaCluster startOnLoopback(Path dir) throws IOException, InterruptedException {
        List<NodeAddress> nodes = new ArrayList<>();
        for (int id = 1; id <= SIZE; id++) {
            nodes.add(new NodeAddress(id, "127.0.0.1", freePort(), freePort(), Optional.empty()));
        }
        return new KafkaCluster(dir, nodes).startAll();
    }

    /**
     * Three nodes, node N in a namespace {@code kN} of {@code net} at address .(40+N), ports 9092 and 9093. Their
     * PLAINTEXT listeners are reachable only from this test's bridge, which has no route out.
     */
    public static KafkaCluster startInNamespaces(Path dir, NetworkNamespaces net) throws IOException,
            InterruptedException {
        List<NodeAddress> nodes = new ArrayList<>();
        for (int id = 1; id <= SIZE; id++) {
            String ns = net.addNamespace("k" + id, 40 + id);
            nodes.add(new NodeAddress(id, net.address(40 + id), 9092, 9093, Optional.of(ns)));
        }
        return new KafkaCluster(dir, nodes).startAll();
    }

    private KafkaCluster startAll() throws IOException, InterruptedException {
        String clusterId = Uuid.randomUuid().toString();
        try {
            Files.createDirectories(dir);
            for (NodeAddress n : nodes) format(n, clusterId);
            for (NodeAddress n : nodes) launch(n);
            for (NodeAddress n : nodes) awaitPort(n);
            awaitRegistered(Set.of(1, 2, 3));
            log.info("Kafka cluster of {} nodes up at {} (logs in {})", SIZE, bootstrapServers(), dir);
        } catch (IOException | RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
        return this;
    }

    @Override
    public String bootstrapServers() {
        return nodes.stream().map(NodeAddress::hostPort).collect(Collectors.joining(","));
    }

    @Override
    public String kind() {
        return "cluster-of-" + SIZE;
    }

    public NodeAddress node(int id) {
        return nodes.get(id - 1);
    }

    public long pid(int id) {
        return processes[id].pid();
    }

    public boolean isRunning(int id) {
        return processes[id] != null && processes[id].isAlive();
    }

    /** SIGKILL: no controlled shutdown, leadership moves only when the controller fences the node. */
    public void kill(int id) throws InterruptedException {
        Process p = processes[id];
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        log.info("Kafka node {} (pid {}) killed with SIGKILL", id, p.pid());
    }

    /** SIGTERM: a controlled shutdown (leadership moved away first); waits for the process to end. */
    public void stop(int id) throws InterruptedException {
        Process p = processes[id];
        p.destroy();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new IllegalStateException("node " + id + " did not stop within 120 s of SIGTERM; see " + logFile(id));
        }
        log.info("Kafka node {} (pid {}) stopped with SIGTERM", id, p.pid());
    }

    /** Starts a stopped or killed node again on its log dir and ports; returns once the cluster lists it. */
    public void start(int id) throws IOException, InterruptedException {
        if (isRunning(id)) throw new IllegalStateException("node " + id + " is running");
        launch(node(id));
        awaitPort(node(id));
        awaitRegistered(Set.of(id));
        log.info("Kafka node {} (pid {}) back at {}", id, pid(id), node(id).hostPort());
    }

    /** The current leader of a partition, as the cluster's metadata says; -1 when it has none. */
    public int leaderOf(String topic, int partition) throws InterruptedException {
        try (Admin admin = admin()) {
            TopicPartitionInfo p = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(topic).partitions().get(partition);
            return p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot describe " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Describes {@code topics} (their partitions, leaders, replicas and ISRs). */
    public Map<String, TopicDescription> describe(Collection<String> topics) throws InterruptedException {
        try (Admin admin = admin()) {
            return admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot describe " + topics + ": " + e.getMessage(), e);
        }
    }

    /** Waits until every partition of {@code topics} has a leader and all its replicas back in sync. */
    public void awaitFullyReplicated(Collection<String> topics, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                List<String> lagging = new ArrayList<>();
                for (TopicDescription t : describe(topics).values()) {
                    for (TopicPartitionInfo p : t.partitions()) {
                        if (p.leader() == null || p.leader().isEmpty() || p.isr().size() < p.replicas().size()) {
                            lagging.add(t.name() + "-" + p.partition() + " isr=" + ids(p.isr()));
                        }
                    }
                }
                if (lagging.isEmpty()) return;
                last = lagging.toString();
            } catch (IllegalStateException e) {
                last = e.getMessage();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("not fully replicated after " + timeout.toSeconds() + " s: " + last);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    /** SIGTERM to every running node at once, SIGKILL to any still running 60 s later. Log dirs stay. */
    @Override
    public void close() {
        long start = System.nanoTime();
        for (int id = 1; id <= SIZE; id++) if (processes[id] != null) processes[id].destroy();
        for (int id = 1; id <= SIZE; id++) {
            Process p = processes[id];
            if (p == null) continue;
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        log.info("Kafka cluster at {} stopped in {} ms", bootstrapServers(), (System.nanoTime() - start) / 1_000_000);
    }

    /** A new Admin client on the whole cluster; the caller closes it. */
    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "rtb-test-cluster-admin");
        return Admin.create(p);
    }

    public Path logFile(int id) {
        return dir.resolve("node-" + id + ".log");
    }

    private Path properties(int id) {
        return dir.resolve("node-" + id + ".properties");
    }

    private Properties config(NodeAddress n) throws IOException {
        Properties p = new Properties();
        try (InputStream in = KafkaBroker.class.getResourceAsStream("/rtb/server.properties")) {
            if (in == null) throw new IOException("/rtb/server.properties missing from the classpath");
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        }
        p.setProperty("node.id", String.valueOf(n.id()));
        p.setProperty("controller.quorum.voters", nodes.stream()
            .map(v -> v.id() + "@" + v.host() + ":" + v.controllerPort()).collect(Collectors.joining(",")));
        p.setProperty("listeners", "PLAINTEXT://" + n.hostPort() + ",CONTROLLER://" + n.host() + ":" + n.controllerPort());
        p.setProperty("advertised.listeners", "PLAINTEXT://" + n.hostPort());
        p.setProperty("log.dirs", dir.resolve("node-" + n.id()).toAbsolutePath().toString());
        // the single-node file holds one replica of everything; a cluster holds three and acks with two
        p.setProperty("offsets.topic.replication.factor", "3");
        p.setProperty("transaction.state.log.replication.factor", "3");
        p.setProperty("transaction.state.log.min.isr", "2");
        p.setProperty("share.coordinator.state.topic.replication.factor", "3");
        p.setProperty("share.coordinator.state.topic.min.isr", "2");
        p.setProperty("default.replication.factor", "3");
        p.setProperty("min.insync.replicas", "2");
        return p;
    }

    private void format(NodeAddress n, String clusterId) throws IOException {
        Properties p = config(n);
        try (OutputStream out = Files.newOutputStream(properties(n.id()))) {
            p.store(out, "node " + n.id() + " of a test cluster");
        }
        KafkaConfig config = KafkaConfig.fromProps(p, false);
        String logDir = p.getProperty("log.dirs");
        Files.createDirectories(Path.of(logDir));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new Formatter()
                .setPrintStream(new PrintStream(out, true, StandardCharsets.UTF_8))
                .setClusterId(clusterId)
                .setNodeId(n.id())
                .setDirectories(List.of(logDir))
                .setMetadataLogDirectory(logDir)
                .setControllerListenerName(config.controllerListenerNames().get(0))
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .run();
        } catch (Exception e) {
            throw new IOException("cannot format node " + n.id() + " in " + logDir + ": " + e + " " + out, e);
        }
    }

    private void launch(NodeAddress n) throws IOException {
        List<String> cmd = new ArrayList<>();
        n.namespace().ifPresent(ns -> cmd.addAll(List.of("ip", "netns", "exec", ns)));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
            "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), KafkaNodeMain.class.getName(),
            properties(n.id()).toAbsolutePath().toString()));
        // stdin stays a pipe held by this JVM: KafkaNodeMain exits when it closes
        processes[n.id()] = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(n.id()).toFile())).start();
    }

    private void awaitPort(NodeAddress n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!processes[n.id()].isAlive()) {
                throw new IOException("node " + n.id() + " exited " + processes[n.id()].exitValue() + "; see " + logFile(n.id()));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(n.host(), n.port()), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IOException("node " + n.id() + " did not listen on " + n.hostPort() + " within " + START.toSeconds()
            + " s; see " + logFile(n.id()));
    }

    /** Waits until the cluster's metadata lists every node of {@code ids} as a live broker. */
    private void awaitRegistered(Set<Integer> ids) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        String last = "";
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    Set<Integer> live = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream()
                        .map(Node::id).collect(Collectors.toSet());
                    if (live.containsAll(ids)) return;
                    last = "live " + live;
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    last = e.toString();
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("nodes " + ids + " not registered within " + START.toSeconds() + " s (" + last
            + "); see " + dir);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }
}
