package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.NetworkNamespaces;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TempDirs;
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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A fleet on one machine, each part on its own network: three source hosts and two destination servers in network
 * namespaces this test creates (a bridge with one veth per namespace, addresses 10.x.y.0/24 of its own, no route
 * out), a broker and two workers in the test's namespace. Every host's root reaches both servers under its own
 * prefix; then one server is cut off (its link down), the other keeps converging, and after the link comes back
 * the cut-off one catches up. Agents run as `ip netns exec hN java ... rtb agent`, daemons as
 * `ip netns exec dN rsync --daemon`.
 */
class NetnsFleetTest {
    private static final Duration CONVERGE = Duration.ofSeconds(180);
    private static final int DAEMON_PORT = 8730;

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @Test
    void threeHostsReachTwoServersAndACutOffServerCatchesUpAfterTheLinkHeals() throws Exception {
        NetworkNamespaces.Creation made = NetworkNamespaces.create();
        Assumptions.assumeTrue(made.network().isPresent(), made.whyNot());
        try (NetworkNamespaces net = made.network().get(); TempDirs tmp = TempDirs.create("rtb-netns")) {
            Path dir = Path.of(tmp.pathString());
            // the broker advertises the bridge address, which the namespaces reach (it listens on every local
            // address because its start-up check and this test's workers use loopback)
            BrokerSettings free = BrokerSettings.onFreePorts(dir.resolve("broker"));
            BrokerSettings settings = new BrokerSettings(free.logDir(), free.port(), free.controllerPort(), Map.of(
                "listeners", "PLAINTEXT://0.0.0.0:" + free.port() + ",CONTROLLER://127.0.0.1:" + free.controllerPort(),
                "advertised.listeners", "PLAINTEXT://" + net.gateway() + ":" + free.port()));
            String bootstrap = net.gateway() + ":" + free.port();
            List<RsyncDaemon> servers = new ArrayList<>();
            List<Process> agents = new ArrayList<>();
            List<Worker> workers = new ArrayList<>();
            try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(settings)) {
                Topics topics = Topics.withPrefix("netns-" + UUID.randomUUID() + ".");
                String prefix = topics.events().substring(0, topics.events().length() - "rtb.events".length());
                TopicProvisioner.ensure(bootstrap, topics);
                for (int d = 1; d <= 2; d++) {
                    String ns = net.addNamespace("d" + d, 20 + d);
                    servers.add(RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(dir.resolve("daemon" + d))
                            .toString()))
                        .auth("backup", "server " + d + " secret")
                        .module("backup", BytePaths.utf8(Files.createDirectories(dir.resolve("m" + d)).toString()))
                        .inNetworkNamespace(ns, net.address(20 + d), DAEMON_PORT).start());
                }
                for (int w = 1; w <= 2; w++) {
                    Properties p = new Properties();
                    p.setProperty("worker.id", "netns-w" + w);
                    p.setProperty("destination.d1.routes", "*:*");
                    p.setProperty("destination.d2.routes", "*:*");
                    p.setProperty("breaker.open-wait-ms", "3000");
                    Worker worker = new Worker(WorkerConfig.fromProperties(p), topics, bootstrap, new PrometheusRegistry(),
                        fatal);
                    workers.add(worker);
                    worker.start();
                }
                List<Path> sources = new ArrayList<>();
                for (int h = 1; h <= 3; h++) {
                    String ns = net.addNamespace("h" + h, 10 + h);
                    Path src = Files.createDirectories(dir.resolve("h" + h + "-src"));
                    sources.add(src);
                    Properties p = new Properties();
                    p.setProperty("host.id", "h" + h);
                    p.setProperty("root.data.path", src.toString());
                    p.setProperty("capture.source", "fanotify");
                    p.setProperty("kafka.bootstrap.servers", bootstrap);
                    for (int d = 1; d <= 2; d++) {
                        p.setProperty("destination.d" + d + ".url", servers.get(d - 1).url("backup"));
                        p.setProperty("destination.d" + d + ".timeout-s", "5");
                        p.setProperty("destination.d" + d + ".command-timeout-s", "60");
                    }
                    Path config = dir.resolve("agent-h" + h + ".properties");
                    try (OutputStream out = Files.newOutputStream(config)) {
                        p.store(out, null);
                    }
                    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
                        "-Xmx192m", "-cp", System.getProperty("java.class.path"), Rtb.class.getName(), "agent",
                        "--config", config.toString(), "--topic-prefix", prefix));
                    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent-h" + h + ".log").toFile()));
                    pb.environment().put("RSYNC_PASSWORD_D1", servers.get(0).password().orElseThrow());
                    pb.environment().put("RSYNC_PASSWORD_D2", servers.get(1).password().orElseThrow());
                    agents.add(pb.start());
                }
                for (int h = 1; h <= 3; h++) {
                    Path log = dir.resolve("agent-h" + h + ".log");
                    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(log)
                        && Files.readString(log, StandardCharsets.ISO_8859_1).contains("agent up"));
                }

                // Every host writes, hostile names included; both servers get every host, each under its prefix.
                SplittableRandom rnd = new SplittableRandom(8);
                for (Path src : sources) {
                    write(src, rnd, "round-1");
                    HostileNames.createTree(BytePaths.utf8(Files.createDirectories(src.resolve("hostile")).toString()));
                }
                for (RsyncDaemon server : servers) awaitConverged(server, sources);

                // Cut d2 off: the other server keeps converging, d2 visibly does not.
                net.linkDown("d2");
                for (Path src : sources) write(src, rnd, "round-2");
                awaitConverged(servers.get(0), sources);
                for (int h = 1; h <= 3; h++) {
                    assertThat(replica(servers.get(1), h).resolve("round-2-0.bin")).as("cut-off d2, host h" + h)
                        .doesNotExist();
                }
                // Heal it: d2 catches up with everything it missed.
                net.linkUp("d2");
                awaitConverged(servers.get(1), sources);
                awaitConverged(servers.get(0), sources);
            } finally {
                for (Process a : agents) {
                    a.destroy();
                    if (!a.waitFor(10, TimeUnit.SECONDS)) a.destroyForcibly();
                }
                for (Worker w : workers) w.close();
                for (RsyncDaemon s : servers) s.close();
            }
            fatal.assertNone();
        }
    }

    private static void write(Path src, SplittableRandom rnd, String round) throws IOException {
        Files.createDirectories(src.resolve(round + "/deep/er"));
        for (int i = 0; i < 5; i++) {
            byte[] data = new byte[1 + rnd.nextInt(64 * 1024)];
            rnd.nextBytes(data);
            Files.write(src.resolve(round + "-" + i + ".bin"), data);
            Files.write(src.resolve(round + "/deep/er/f" + i), data);
        }
    }

    private static Path replica(RsyncDaemon server, int host) {
        return Path.of(new String(server.moduleDir("backup"), StandardCharsets.UTF_8)).resolve("h" + host).resolve("data");
    }

    private static void awaitConverged(RsyncDaemon server, List<Path> sources) {
        await().atMost(CONVERGE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (int h = 1; h <= sources.size(); h++) {
                Path replica = replica(server, h);
                if (!Files.isDirectory(replica)) throw new AssertionError(server + ": no replica of h" + h + " yet");
                TreeDiff.Result r = TreeDiff.defaults().withNanosecondMtime().compare(
                    BytePaths.utf8(sources.get(h - 1).toString()), BytePaths.utf8(replica.toString()));
                if (!r.isEqual()) throw new AssertionError(server + ", host h" + h + ": " + r.describe());
            }
        });
    }
}
