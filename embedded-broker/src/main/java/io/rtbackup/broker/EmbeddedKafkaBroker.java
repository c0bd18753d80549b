package io.rtbackup.broker;

import io.rtbackup.secure.OwnerOnly;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import kafka.server.KafkaConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.apache.kafka.storage.internals.checkpoint.CleanShutdownFileHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's own KRaft server (broker and controller in one) running inside this JVM. This is a real broker: the
 * same code as a production Kafka node, with its log on disk under {@link BrokerSettings#logDir()}.
 *
 * <p>A start on a log dir whose previous broker did not stop cleanly (killed, crashed) starts the controller first
 * and takes the dead incarnation's broker registration off it before the broker registers
 * ({@link PreviousIncarnation}): the new broker does not wait for the dead one's session to expire. A log dir in use
 * by a running broker is refused before anything starts ({@link LogDirLock}).
 *
 * <p>With {@link BrokerSecurity} the super user's SCRAM credential is written when the log dir is formatted (a
 * SASL_SSL broker has no other way in), and the other users are set once the broker is up ({@link ScramUsers}).
 */
public final class EmbeddedKafkaBroker implements KafkaBroker {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private static final Duration CONTROLLER_ACTIVE_TIMEOUT = Duration.ofSeconds(60);

    private final BrokerSettings settings;
    private final KraftNode node;
    private final LogDirLock lock;
    private volatile boolean closed;

    private EmbeddedKafkaBroker(BrokerSettings settings, KraftNode node, LogDirLock lock) {
        this.settings = settings;
        this.node = node;
        this.lock = lock;
    }

    /** Formats the log dir on first use (never again: the cluster id must stay) and starts the server. */
    public static EmbeddedKafkaBroker start(BrokerSettings settings) {
        Path logDir = settings.logDir().toAbsolutePath();
        LogDirLock lock = null;
        EmbeddedKafkaBroker broker = null;
        try {
            OwnerOnly.createDirectories(logDir); // 0700 where created: the log holds every event and credential
            lock = LogDirLock.acquire(logDir); // before the controller touches the metadata log
            Properties props = settings.toProperties();
            KafkaConfig config = KafkaConfig.fromProps(props, false);
            boolean formatted = formatOnce(config, logDir, settings.security().map(BrokerSecurity::adminScramArgument));
            // A broker that stopped cleanly left this file (its registration is fenced: nothing to wait for).
            boolean crashed = !formatted
                && !Files.exists(logDir.resolve(CleanShutdownFileHandler.CLEAN_SHUTDOWN_FILE_NAME));
            KraftNode node = KraftNode.create(config, Time.SYSTEM);
            broker = new EmbeddedKafkaBroker(settings, node, lock);
            try {
                node.startController();
                if (crashed) PreviousIncarnation.release(node.controller(), config.nodeId(), CONTROLLER_ACTIVE_TIMEOUT);
                node.startBroker();
                awaitListening(settings);
                if (settings.security().isPresent()) ScramUsers.apply(settings);
            } catch (Exception e) {
                broker.close();
                throw e;
            }
            log.info("Kafka broker up at {} ({}, log dir {})", settings.bootstrapServers(),
                settings.security().isPresent() ? "SASL_SSL" : "PLAINTEXT", logDir);
            return broker;
        } catch (Exception | LinkageError e) {
            if (broker == null && lock != null) {
                try {
                    lock.close();
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
            }
            throw new BrokerStartException("Kafka broker failed to start on " + settings.listenHost() + ":" + settings.port()
                + " (controller port " + settings.controllerPort() + ") with log dir " + logDir + ": " + e
                + ". Check that the ports are free and the log dir is writable and belongs to this broker.", e);
        }
    }

    /** Whether it formatted {@code logDir} now (a fresh log: no previous incarnation). */
    private static boolean formatOnce(KafkaConfig config, Path logDir, Optional<String> adminScram) throws Exception {
        if (Files.exists(logDir.resolve("meta.properties"))) return false;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Formatter formatter = new Formatter();
        adminScram.ifPresent(a -> formatter.setScramArguments(List.of(a)));
        formatter
            .setPrintStream(new PrintStream(out, true, StandardCharsets.UTF_8))
            .setClusterId(Uuid.randomUuid().toString())
            .setNodeId(config.nodeId())
            .setDirectories(List.of(logDir.toString()))
            .setMetadataLogDirectory(logDir.toString())
            .setControllerListenerName(config.controllerListenerNames().get(0))
            .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
            .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
            .run();
        log.debug("formatted {}: {}", logDir, out.toString(StandardCharsets.UTF_8).trim());
        return true;
    }

    /** startBroker() returns once the broker is registered; wait until the client port really accepts. */
    private static void awaitListening(BrokerSettings settings) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(settings.localAddress(), settings.port()), 500);
                return;
            } catch (IOException e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new IOException("port " + settings.port() + " did not accept connections within 60 s", last);
    }

    @Override
    public String bootstrapServers() {
        return settings.bootstrapServers();
    }

    @Override
    public String kind() {
        return "embedded";
    }

    public BrokerSettings settings() {
        return settings;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        node.shutdown();
        try {
            lock.close();
        } catch (IOException e) { // the OS drops the lock when the process ends at the latest
            log.warn("could not release {} in {}: {}", LogDirLock.FILE_NAME, settings.logDir(), e.toString());
        }
        log.info("Kafka broker at {} stopped", settings.bootstrapServers());
    }

    /** A throwaway log dir under the system temp dir, for tests and benchmarks. */
    public static Path tempLogDir() {
        try {
            return Files.createTempDirectory("rtb-kafka-" + UUID.randomUUID().toString().substring(0, 8));
        } catch (IOException e) {
            throw new BrokerStartException("cannot create a temp log dir: " + e.getMessage(), e);
        }
    }
}
