package io.rtbackup.bench.contender;

import io.rtbackup.bench.proc.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * {@code rtb up} with default settings: one JVM holding the Kafka broker, the agent and a worker. Launched from a
 * snapshot of the built class path, so edits and rebuilds in the working tree during a run cannot change what is
 * measured.
 */
public record RtbUp(String classpath, List<String> jvmOptions) implements Contender {

    static final long START_TIMEOUT_MS = 600_000;

    @Override
    public String label() {
        return "rtbackup (rtb up)";
    }

    @Override
    public String id() {
        return "rtb";
    }

    @Override
    public Running start(Site site) throws IOException {
        int metricsPort = Ports.free();
        Path state = Files.createTempDirectory(site.workDir(), "rtb-state-");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classpath, "io.rtbackup.cli.Rtb", "up",
                "--source", site.source().toString(), "--dest", site.moduleUrl(),
                "--state-dir", state.toString(), "--host-id", Site.HOST_ID,
                "--metrics-port", Integer.toString(metricsPort)));
        long t0 = System.nanoTime();
        ChildProcess p = ChildProcess.start(cmd, Map.of(), state.resolve("rtb-up.log"));
        try {
            ChildProcess.Line ready = p.awaitLine(l -> l.startsWith("initial sync complete"), START_TIMEOUT_MS,
                    "'initial sync complete' from rtb up");
            long watching = p.firstLine(l -> l.contains("capture source") && l.contains(" started"))
                    .or(() -> p.firstLine(l -> l.startsWith("rtb up: host")))
                    .map(ChildProcess.Line::nanos).orElse(ready.nanos());
            return new Up(p, t0, watching, ready.nanos(), metricsPort);
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private record Up(ChildProcess process, long startedNanos, long watchingNanos, long readyNanos, int metricsPort)
            implements Running {

        @Override
        public long measuredPid() {
            return process.pid();
        }

        @Override
        public String measuredWhat() {
            return "one JVM: Kafka broker + agent + worker (+ reaped rsync children for CPU)";
        }

        @Override
        public OptionalDouble eventsPublished() {
            return Metrics.sum(metricsPort, "rtb_agent_events_published_total");
        }

        @Override
        public OptionalDouble metric(String name) {
            return Metrics.sum(metricsPort, name);
        }

        @Override
        public void close() {
            process.close();
        }
    }
}
