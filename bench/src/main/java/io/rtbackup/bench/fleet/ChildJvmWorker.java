package io.rtbackup.bench.fleet;

import io.rtbackup.bench.proc.ProcStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker in a child JVM ({@link FleetWorkerMain} on this JVM's class path), so its CPU is its own: read from
 * {@code /proc/<pid>/stat} (user + system time of every thread of that JVM: pipelines, Kafka clients, GC, JIT).
 * Its output goes to {@code <workDir>/<id>.log}.
 */
final class ChildJvmWorker implements SimWorker {
    private final String id;
    private final Process process;

    private ChildJvmWorker(String id, Process process) {
        this.id = id;
        this.process = process;
    }

    /** Starts the JVM and waits until its worker is ready (every pipeline in its group). */
    static ChildJvmWorker start(String id, String bootstrap, String topicPrefix, Properties workerProps, Path workDir) {
        try {
            Path props = workDir.resolve(id + ".properties");
            try (Writer w = Files.newBufferedWriter(props)) {
                workerProps.store(w, "fleet simulator worker " + id);
            }
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                FleetWorkerMain.class.getName(), bootstrap, topicPrefix, props.toString()));
            Path log = workDir.resolve(id + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            CountDownLatch ready = new CountDownLatch(1);
            Thread pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8)); Writer out = Files.newBufferedWriter(log)) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.equals(FleetWorkerMain.READY)) ready.countDown();
                        out.write(line);
                        out.write('\n');
                        out.flush();
                    }
                } catch (IOException e) {
                    // the child is gone; its exit shows in the report as a missing worker
                }
            }, "fleet-worker-log-" + id);
            pump.setDaemon(true);
            pump.start();
            if (!ready.await(3, TimeUnit.MINUTES) || !p.isAlive()) {
                p.destroyForcibly();
                throw new IllegalStateException("worker " + id + " did not get ready; see " + log);
            }
            return new ChildJvmWorker(id, p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start worker " + id, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting worker " + id, e);
        }
    }

    @Override
    public String id() {
        return id;
    }

    long pid() {
        return process.pid();
    }

    @Override
    public OptionalDouble cpuSeconds() {
        return OptionalDouble.of(ProcStats.cpu(process.pid()).ownSeconds());
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: the shutdown hook closes the worker
        try {
            if (!process.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
