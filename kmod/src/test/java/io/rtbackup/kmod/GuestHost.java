package io.rtbackup.kmod;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.RootControlState;
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
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host half of the guest's end-to-end run: a Kafka broker on loopback with a second listener that is
 * advertised as {@code 10.0.2.2} (qemu's user-mode network maps that address to the host's 127.0.0.1, so the
 * guest's clients are told an address they can reach), the topics, a worker in this JVM and an authenticated
 * rsync daemon. {@link #prepare(Path)} writes what the guest's {@code rtb agent} needs (config, password, topic
 * prefix); {@link #answerCheckpoints(Path, BooleanSupplier)} answers each checkpoint of the guest
 * ({@code cpN.tar}, its source tree, then {@code cpN.ready}) with {@code cpN.verdict} once the replica equals
 * the tree (unpacked by the host's tar into {@code cpN/}), or with the remaining difference when
 * {@link #CONVERGE} ran out. In the same loop it answers the guest's requests of the pause switch
 * ({@code NAME.request} with {@code NAME.answer}): {@code pause} and {@code resume} flip the root's switch through
 * the control topic ({@link GuestSwitch}) and answer once the agent applied it; {@code untouched} waits
 * {@link #PAUSED_QUIET} and compares the replica with checkpoint cp2's tree, which it must still equal.
 */
final class GuestHost implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuestHost.class);
    /** The host as the guest sees it on qemu's user-mode network. */
    static final String HOST_FROM_GUEST = "10.0.2.2";
    static final String HOST_ID = "kmod-guest";
    static final String ROOT = "src";
    /** How long a checkpoint waits for the replica (the guest's agent runs under emulation). */
    static final Duration CONVERGE = Duration.ofSeconds(150);
    /** How long the replica must stay as it was while the root is paused: longer than a live change takes. */
    static final Duration PAUSED_QUIET = Duration.ofSeconds(8);
    /** How long a switch waits for the agent's applied state (a resume includes the reconciliation). */
    static final Duration SWITCH_WAIT = Duration.ofSeconds(180);

    private final TempDirs tmp;
    private final EmbeddedKafkaBroker broker;
    private final int guestPort;
    private final RsyncDaemon daemon;
    private final String topicPrefix;
    private final Worker worker;
    private final RecordingFatalErrorHandler fatal;
    private final GuestSwitch rootSwitch;
    private final Map<String, TreeDiff.Result> verdicts = new ConcurrentHashMap<>();
    private final Map<String, RootControlState> switched = new ConcurrentHashMap<>();
    private final Map<String, String> answered = new ConcurrentHashMap<>();
    private volatile TreeDiff.Result whilePaused;

    private GuestHost(TempDirs tmp, EmbeddedKafkaBroker broker, int guestPort, RsyncDaemon daemon,
                      String topicPrefix, Worker worker, RecordingFatalErrorHandler fatal) {
        this.tmp = tmp;
        this.broker = broker;
        this.guestPort = guestPort;
        this.daemon = daemon;
        this.topicPrefix = topicPrefix;
        this.worker = worker;
        this.fatal = fatal;
        this.rootSwitch = new GuestSwitch(broker.bootstrapServers(), Topics.withPrefix(topicPrefix));
    }

    static GuestHost start() throws Exception {
        TempDirs tmp = TempDirs.create("rtb-kmod-e2e");
        EmbeddedKafkaBroker broker = null;
        RsyncDaemon daemon = null;
        Worker worker = null;
        try {
            int port = freePort();
            int guestPort = freePort();
            int controllerPort = freePort();
            // both listeners bind loopback only; GUEST differs in what it advertises
            Map<String, String> listeners = Map.of(
                    "listeners", "PLAINTEXT://127.0.0.1:" + port + ",GUEST://127.0.0.1:" + guestPort
                            + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "advertised.listeners", "PLAINTEXT://127.0.0.1:" + port + ",GUEST://" + HOST_FROM_GUEST + ":"
                            + guestPort,
                    "listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,GUEST:PLAINTEXT");
            broker = EmbeddedKafkaBroker.start(new BrokerSettings(Path.of(tmp.pathString(), "kafka"), port,
                    controllerPort, listeners));
            daemon = RsyncDaemon.builder(tmp.newDir("daemon")).auth("backup", "guest secret")
                    .module("backup", tmp.newDir("dest")).start();
            String prefix = "kmod-" + UUID.randomUUID() + ".";
            Topics topics = Topics.withPrefix(prefix);
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            Properties w = new Properties();
            w.setProperty("worker.id", "kmod-worker");
            w.setProperty("destination.d1.routes", HOST_ID + ":" + ROOT);
            w.setProperty("retry.initial-backoff-ms", "200");
            w.setProperty("retry.max-backoff-ms", "2000");
            RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
            worker = new Worker(WorkerConfig.fromProperties(w), topics, broker.bootstrapServers(),
                    new PrometheusRegistry(), fatal);
            worker.start();
            if (!worker.awaitReady(Duration.ofSeconds(60))) throw new IllegalStateException("worker not ready in 60 s");
            return new GuestHost(tmp, broker, guestPort, daemon, prefix, worker, fatal);
        } catch (Exception | Error e) {
            if (worker != null) worker.close();
            if (daemon != null) daemon.close();
            if (broker != null) broker.close();
            tmp.close();
            throw e;
        }
    }

    /** The directory the guest sees read-only at /dest: the daemon's module. */
    Path destination() {
        return Path.of(new String(daemon.moduleDir("backup"), StandardCharsets.UTF_8));
    }

    /** Where the root lands on the destination: module/{host}/{root}/. */
    byte[] replica() {
        return BytePaths.join(daemon.moduleDir("backup"), BytePaths.utf8(HOST_ID), BytePaths.utf8(ROOT));
    }

    /**
     * Writes {@code e2e/agent.properties} (the agent's view: its root at /mnt/src inside the chroot, the
     * broker's guest listener and the daemon at 10.0.2.2) and {@code e2e/env} (topic prefix, password, where
     * the replica is under /dest).
     */
    void prepare(Path e2e) throws IOException {
        Files.createDirectories(e2e);
        Properties p = new Properties();
        p.setProperty("host.id", HOST_ID);
        p.setProperty("root." + ROOT + ".path", "/mnt/src");
        p.setProperty("capture.source", "kmod");
        p.setProperty("kafka.bootstrap.servers", HOST_FROM_GUEST + ":" + guestPort);
        p.setProperty("destination.d1.url", "rsync://backup@" + HOST_FROM_GUEST + ":" + daemon.port() + "/backup");
        p.setProperty("destination.d1.timeout-s", "60");
        p.setProperty("state.dir", "/mnt/state");
        try (OutputStream out = Files.newOutputStream(e2e.resolve("agent.properties"))) {
            p.store(out, "rtb agent in the kmod qemu guest");
        }
        Files.writeString(e2e.resolve("env"), "TOPIC_PREFIX='" + topicPrefix + "'\n"
                + "RSYNC_PASSWORD_D1='" + daemon.password().orElseThrow() + "'\n"
                + "REPLICA='" + HOST_ID + "/" + ROOT + "'\n");
    }

    /**
     * Until {@code running} turns false: for each {@code cpN.ready} in {@code e2e}, waits for the replica to
     * equal {@code cpN/} and writes {@code cpN.verdict}.
     */
    void answerCheckpoints(Path e2e, BooleanSupplier running) throws InterruptedException {
        while (running.getAsBoolean()) {
            for (int n = 1; n <= 9; n++) {
                String cp = "cp" + n;
                if (verdicts.containsKey(cp) || !Files.exists(e2e.resolve(cp + ".ready"))) continue;
                TreeDiff.Result r = awaitConverged(unpack(e2e, cp), running);
                verdicts.put(cp, r);
                log.info("checkpoint {}: {}", cp, r.isEqual() ? "converged" : r.describe());
                try {
                    Files.writeString(e2e.resolve(cp + ".verdict"), r.isEqual() ? "converged\n"
                            : "differs: " + r.describe() + "\n");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            for (String request : new String[] {"pause", "untouched", "resume"}) {
                if (answered.containsKey(request) || !Files.exists(e2e.resolve(request + ".request"))) continue;
                String answer = answer(request, e2e);
                answered.put(request, answer);
                log.info("guest request {}: {}", request, answer);
                try {
                    Files.writeString(e2e.resolve(request + ".answer"), answer + "\n");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            Thread.sleep(100);
        }
    }

    private String answer(String request, Path e2e) throws InterruptedException {
        if (request.equals("untouched")) {
            Thread.sleep(PAUSED_QUIET.toMillis());
            try {
                whilePaused = TreeDiff.defaults().compare(BytePaths.utf8(e2e.resolve("cp2").toString()), replica());
            } catch (IOException e) {
                throw new UncheckedIOException("comparing the replica with cp2", e);
            }
            return whilePaused.isEqual() ? "untouched" : "reached the replica: " + whilePaused.describe();
        }
        ControlAction action = request.equals("pause") ? ControlAction.PAUSE : ControlAction.RESUME;
        Optional<RootControlState> s = rootSwitch.flip(HOST_ID, ROOT, action, SWITCH_WAIT);
        s.ifPresent(state -> switched.put(request, state));
        return s.map(state -> (state.getPaused() ? "paused: " : "active: ") + state.getNote())
                .orElse(action + " not applied within " + SWITCH_WAIT.toSeconds() + " s");
    }

    private static Path unpack(Path e2e, String cp) {
        Path dir = e2e.resolve(cp);
        try {
            Files.createDirectories(dir);
            Process tar = new ProcessBuilder("tar", "-xpf", e2e.resolve(cp + ".tar").toString(), "-C", dir.toString(),
                    "--numeric-owner").redirectErrorStream(true).start();
            String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (tar.waitFor() != 0) throw new IOException("tar -x " + cp + ".tar failed: " + out);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted unpacking " + cp, e);
        }
    }

    private TreeDiff.Result awaitConverged(Path copy, BooleanSupplier running) throws InterruptedException {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        TreeDiff.Result last = null;
        while (running.getAsBoolean()) {
            try {
                last = TreeDiff.defaults().compare(BytePaths.utf8(copy.toString()), replica());
                if (last.isEqual() || System.nanoTime() > deadline) return last;
            } catch (IOException e) { // the replica's directory does not exist yet
                if (System.nanoTime() > deadline) throw new UncheckedIOException("no replica at all", e);
            }
            Thread.sleep(250);
        }
        return last;
    }

    /** The answer given to checkpoint {@code cp} (cp1, cp2, ...), if it was asked. */
    TreeDiff.Result verdict(String cp) {
        return verdicts.get(cp);
    }

    /** The state the agent published for the {@code pause} or {@code resume} the guest asked for, if it did. */
    Optional<RootControlState> switched(String request) {
        return Optional.ofNullable(switched.get(request));
    }

    /** The replica against cp2's tree after the changes made while paused, if the guest got that far. */
    Optional<TreeDiff.Result> whilePaused() {
        return Optional.ofNullable(whilePaused);
    }

    /** Fails when the worker gave up during the run. */
    void assertWorkerHealthy() {
        fatal.assertNone();
    }

    @Override
    public void close() throws IOException {
        worker.close();
        daemon.close();
        broker.close();
        tmp.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
