package io.rtbackup.broker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same embedded broker in a child JVM ({@link BrokerMain}), with this JVM's class path. Costs a JVM start but
 * keeps the broker's heap, threads and GC out of the process under test, and lets a test kill the broker hard.
 * Its command line carries ports and log dir only, so it runs the PLAINTEXT loopback broker, never a secure one
 * (passwords do not go on a command line).
 */
public final class ChildJvmKafkaBroker implements KafkaBroker {
    private static final Logger log = LoggerFactory.getLogger(ChildJvmKafkaBroker.class);

    private final BrokerSettings settings;
    private final Process process;

    private ChildJvmKafkaBroker(BrokerSettings settings, Process process) {
        this.settings = settings;
        this.process = process;
    }

    public static ChildJvmKafkaBroker start(BrokerSettings settings) {
        if (settings.security().isPresent() || !settings.listenHost().equals(BrokerSettings.LOOPBACK)) {
            throw new IllegalArgumentException("a child JVM broker runs PLAINTEXT on 127.0.0.1 only; start a secure "
                + "broker with EmbeddedKafkaBroker.start");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx512m", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("java.class.path"), BrokerMain.class.getName(),
            settings.logDir().toAbsolutePath().toString(), String.valueOf(settings.port()),
            String.valueOf(settings.controllerPort())));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder tail = new StringBuilder();
            CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith(BrokerMain.READY)) return true;
                        synchronized (tail) {
                            tail.append(line).append('\n');
                            if (tail.length() > 8000) tail.delete(0, tail.length() - 8000);
                        }
                    }
                } catch (IOException ignored) {
                    // The process died; reported below.
                }
                return false;
            });
            boolean ok = ready.get(120, TimeUnit.SECONDS);
            if (!ok) throw new IOException("the broker process exited: " + tail);
            // Keep draining its output so the child never blocks on a full pipe.
            CompletableFuture.runAsync(() -> {
                try {
                    while (out.readLine() != null) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // process gone
                }
            });
            log.info("Kafka broker (child JVM pid {}) up at {}", p.pid(), settings.bootstrapServers());
            return new ChildJvmKafkaBroker(settings, p);
        } catch (Exception e) {
            throw new BrokerStartException("Kafka broker child JVM failed to start on 127.0.0.1:" + settings.port()
                + " with log dir " + settings.logDir() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String bootstrapServers() {
        return settings.bootstrapServers();
    }

    @Override
    public String kind() {
        return "child-jvm";
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, for tests of a broker that dies. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
