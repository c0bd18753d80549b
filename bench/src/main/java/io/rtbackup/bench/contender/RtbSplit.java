package io.rtbackup.bench.contender;

import io.rtbackup.bench.proc.ChildProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.IntFunction;

/**
 * rtbackup as a fleet runs it: {@code rtb broker}, {@code rtb worker} and {@code rtb agent} as three processes,
 * default settings, with one or more workers (scale-out). Only the agent (the part that runs on every source host) is measured for memory and CPU.
 */
public record RtbSplit(String classpath, List<String> jvmOptions, List<String> agentJvmOptions, int workers)
        implements Contender {

    @Override
    public String label() {
        return workers == 1 ? "rtbackup (agent process)" : "rtbackup (agent process, " + workers + " workers)";
    }

    @Override
    public String id() {
        return workers == 1 ? "rtb-split" : "rtb-split-" + workers + "w";
    }

    private List<String> java(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        if (args[0].equals("agent")) {
            cmd.addAll(agentJvmOptions); // e.g. heap and GC settings tried on the agent alone
        }
        cmd.addAll(List.of("-cp", classpath, "io.rtbackup.cli.Rtb"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Override
    public Running start(Site site) throws IOException {
        Path dir = Files.createTempDirectory(site.workDir(), "rtb-split-");
        int kafkaPort = Ports.free();
        int controllerPort = Ports.free();
        int metricsPort = Ports.free();
        String bootstrap = "127.0.0.1:" + kafkaPort;
        List<ChildProcess> started = new ArrayList<>();
        try {
            ChildProcess broker = ChildProcess.start(java("broker", "--state-dir", dir.resolve("broker").toString(),
                    "--port", Integer.toString(kafkaPort), "--controller-port", Integer.toString(controllerPort)),
                    Map.of(), dir.resolve("broker.log"));
            started.add(broker);
            broker.awaitLine(l -> l.startsWith("rtb broker: Kafka at"), RtbUp.START_TIMEOUT_MS, "broker start");

            for (int w = 1; w <= workers; w++) {
                String id = "bench-worker-" + w;
                Path workerConf = dir.resolve(id + ".properties");
                Files.writeString(workerConf, "worker.id=" + id + "\n"
                        + "kafka.bootstrap.servers=" + bootstrap + "\n"
                        + "destination.d.routes=*:*\n"
                        + more(site, i -> "destination.d" + i + ".routes=*:*\n"), StandardCharsets.UTF_8);
                ChildProcess worker = ChildProcess.start(java("worker", "--config", workerConf.toString()), Map.of(),
                        dir.resolve(id + ".log"));
                started.add(worker);
                worker.awaitLine(l -> l.contains("worker " + id + " started"), RtbUp.START_TIMEOUT_MS, id + " start");
            }

            Path agentConf = dir.resolve("agent.properties");
            Files.writeString(agentConf, "host.id=" + Site.HOST_ID + "\n"
                    + "root.src.path=" + site.source() + "\n"
                    + "kafka.bootstrap.servers=" + bootstrap + "\n"
                    + "destination.d.url=" + site.moduleUrl() + "\n"
                    + more(site, i -> "destination.d" + i + ".url=" + site.more().get(i - 1).daemon().url(site.more().get(i - 1).module()) + "\n")
                    + "metrics.port=" + metricsPort + "\n", StandardCharsets.UTF_8);
            long t0 = System.nanoTime();
            ChildProcess agent = ChildProcess.start(java("agent", "--config", agentConf.toString()), Map.of(),
                    dir.resolve("agent.log"));
            started.add(agent);
            // watching = its capture source started (as for rtb up); the agent starts capture before its Kafka
            // clients, so 'agent up' comes later
            ChildProcess.Line watching = agent.awaitLine(l -> l.contains("capture source") && l.contains(" started"),
                    RtbUp.START_TIMEOUT_MS, "'capture source ... started' from the agent");
            // the first command after start-up is the full sync the agent's start-up rescan asks for
            ChildProcess.Line ready = agent.awaitLine(l -> l.contains(" OK exit=0"), RtbUp.START_TIMEOUT_MS,
                    "the agent's first successful rsync (initial sync)");
            return new Split(List.copyOf(started), agent, t0, watching.nanos(), ready.nanos(), metricsPort);
        } catch (IOException | RuntimeException e) {
            for (int i = started.size() - 1; i >= 0; i--) {
                started.get(i).close();
            }
            throw e;
        }
    }

    /** Config lines for the site's further destinations, numbered from 1. */
    private static String more(Site site, IntFunction<String> line) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= site.more().size(); i++) {
            sb.append(line.apply(i));
        }
        return sb.toString();
    }

    private record Split(List<ChildProcess> all, ChildProcess agent, long startedNanos, long watchingNanos,
                         long readyNanos, int metricsPort) implements Running {

        @Override
        public long measuredPid() {
            return agent.pid();
        }

        @Override
        public String measuredWhat() {
            return "the agent JVM alone (broker and worker in their own JVMs) (+ reaped rsync children for CPU)";
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
            for (int i = all.size() - 1; i >= 0; i--) {
                all.get(i).close();
            }
        }
    }
}
