package io.rtbackup.bench.fleet;

import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.topics.AgentGroup;
import io.rtbackup.topics.CommandPartitions;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.topics.ResultPartitions;
import io.rtbackup.topics.TopicCatalog;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the fleet simulator against a real broker: {@link SimulatedAgents} play the hosts, real backup
 * workers ({@link ChildJvmWorker} or {@link InProcessWorker}) serve one destination that routes every host, and
 * {@link LoadGenerator} changes files at the configured rate. Phases: one worker (warm-up, measured window); then,
 * when asked, a second worker joins (rebalance timed), warm-up, measured window, and it leaves by SIGTERM
 * (rebalance timed); then the load stops and the run waits for every changed path to get an OK result.
 */
public final class FleetSimulator {
    private static final Logger log = LoggerFactory.getLogger(FleetSimulator.class);
    private static final long CONVERGE_TIMEOUT_MS = 120_000;

    private final FleetOptions o;
    private final String bootstrap;
    private final Path workDir;
    private final FatalErrorHandler fatal;
    private final String run = UUID.randomUUID().toString().substring(0, 6);

    /** @param fatal for workers in this JVM (a worker part that stops on its own) */
    public FleetSimulator(FleetOptions options, String bootstrap, Path workDir, FatalErrorHandler fatal) {
        this.o = options;
        this.bootstrap = bootstrap;
        this.workDir = workDir;
        this.fatal = fatal;
    }

    public FleetResult run() throws InterruptedException {
        String prefix = "fleet-" + run + ".";
        Topics topics = Topics.withPrefix(prefix);
        String destination = "sim-" + run;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            TopicProvisioner.ensure(bootstrap, topics);
            if (o.fleetSizedCommands()) {
                registerAgents(admin, topics);
                TopicProvisioner.ensure(bootstrap, topics); // grows the commands topic to the fleet
            }
            GroupWatch group = new GroupWatch(admin, DestinationGroup.of(destination), topics.events());
            List<FleetResult.Window> windows = new ArrayList<>();
            FleetResult.Rebalance join = null;
            FleetResult.Rebalance leave = null;
            long convergedMs;
            try (SimulatedAgents agents = new SimulatedAgents(bootstrap, topics, o.rsyncMs(), o.failureRate()).start()) {
                log.info("fleet simulator {}: {}; commands topic {} has {} partitions", run, o.describe(),
                    topics.commands(), agents.commandPartitions());
                List<SimWorker> workers = new ArrayList<>();
                try {
                    workers.add(startWorker("w1", destination, prefix));
                    try (LoadGenerator load = new LoadGenerator(agents, o.hosts(), o.eventsPerSecond(),
                            o.filesPerHost(), o.zipf()).start()) {
                        Thread.sleep(o.warmupSeconds() * 1000L);
                        windows.add(window("1 worker", workers, agents, group));
                        if (o.twoWorkers()) {
                            RebalanceClock clock = new RebalanceClock(group, 2).start();
                            agents.takeLongestGapMs();
                            workers.add(startWorker("w2", destination, prefix));
                            join = clock.await(agents);
                            Thread.sleep(Math.min(o.warmupSeconds(), 5) * 1000L);
                            windows.add(window("2 workers", workers, agents, group));
                            clock = new RebalanceClock(group, 1).start();
                            agents.takeLongestGapMs();
                            workers.remove(1).close();
                            leave = clock.await(agents);
                        }
                    }
                    agents.flush();
                    convergedMs = awaitConvergence(agents);
                } finally {
                    for (SimWorker w : workers) w.close();
                }
                int p = agents.commandPartitions();
                List<CommandFanIn.Ratio> fanIn = new ArrayList<>();
                fanIn.add(agents.fanIn().readPerAddressed(p));
                int catalog = TopicCatalog.load().spec("commands").partitions();
                int rule = CommandPartitions.forFleet(o.hosts(), catalog);
                for (int other : new int[] {catalog, rule}) {
                    if (other != p) fanIn.add(agents.fanIn().readPerAddressed(other));
                }
                double seconds = windows.stream().mapToDouble(FleetResult.Window::seconds).sum();
                double cmdRate = windows.stream().mapToDouble(w -> w.commandsPerSec() * w.seconds()).sum() / seconds;
                List<ResultFanIn.Ratio> resultFanIn = new ArrayList<>();
                resultFanIn.add(agents.resultFanIn().measured());
                int resultsFloor = TopicCatalog.load().spec("results").partitions();
                for (int w : new int[] {2, 12, 40, 100}) {
                    resultFanIn.add(ResultFanIn.workedOut(w, resultsFloor));
                    int sized = ResultPartitions.forWorkers(w, resultsFloor);
                    if (sized != resultsFloor) resultFanIn.add(ResultFanIn.workedOut(w, sized));
                }
                return new FleetResult(o, p, windows, join, leave, fanIn, resultFanIn,
                    agents.resultFanIn().misplaced(), agents.secondsSinceStart(), cmdRate, agents.fanIn().meanRecordBytes(),
                    agents.fanIn().misplaced(), convergedMs, agents.unsynced());
            }
        }
    }

    /** Every simulated host commits a position in its agent group, as a real agent does at its first start. */
    private void registerAgents(Admin admin, Topics topics) {
        TopicPartition tp = new TopicPartition(topics.commands(), 0);
        List<KafkaFuture<Void>> pending = new ArrayList<>();
        for (int i = 0; i < o.hosts(); i++) {
            pending.add(admin.alterConsumerGroupOffsets(AgentGroup.of(LoadGenerator.hostName(i) + "." + run),
                Map.of(tp, new OffsetAndMetadata(0))).all());
        }
        try {
            KafkaFuture.allOf(pending.toArray(KafkaFuture[]::new)).get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the simulated agents' groups: " + e, e);
        }
    }

    private SimWorker startWorker(String name, String destination, String prefix) {
        Properties p = new Properties();
        p.setProperty("worker.id", "fleet-" + run + "-" + name);
        p.setProperty("destination." + destination + ".routes", "*:*");
        if (o.bulkhead() > 0) p.setProperty("bulkhead.max-concurrent", Integer.toString(o.bulkhead()));
        p.setProperty("kafka.session.timeout.ms", Integer.toString(o.sessionTimeoutMs()));
        log.info("fleet simulator {}: starting worker {}", run, name);
        return o.childJvms()
            ? ChildJvmWorker.start("fleet-" + run + "-" + name, bootstrap, prefix, p, workDir)
            : InProcessWorker.start(bootstrap, Topics.withPrefix(prefix), p, fatal);
    }

    private FleetResult.Window window(String name, List<SimWorker> workers, SimulatedAgents agents, GroupWatch group)
            throws InterruptedException {
        agents.delivery().take();
        agents.roundTrip().take();
        long c0 = group.committed();
        long synced0 = agents.eventsSynced();
        long sent0 = agents.eventsSent();
        long cmd0 = agents.commandsSeen();
        List<OptionalDouble> cpu0 = workers.stream().map(SimWorker::cpuSeconds).toList();
        long t0 = System.nanoTime();
        long maxLag = 0;
        for (int s = 0; s < o.phaseSeconds(); s++) {
            Thread.sleep(1000);
            agents.checkAlive();
            maxLag = Math.max(maxLag, group.lag());
        }
        long endLag = group.lag();
        double seconds = (System.nanoTime() - t0) / 1e9;
        long c1 = group.committed();
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++) {
            OptionalDouble now = workers.get(i).cpuSeconds();
            cpu.add(now.isPresent() ? now.getAsDouble() - cpu0.get(i).getAsDouble() : Double.NaN);
        }
        long[] delivery = agents.delivery().take();
        long[] roundTrip = agents.roundTrip().take();
        FleetResult.Window w = new FleetResult.Window(name, workers.size(), seconds,
            (agents.eventsSent() - sent0) / seconds, (agents.eventsSynced() - synced0) / seconds, (c1 - c0) / seconds,
            cpu.stream().mapToDouble(d -> d).sum(), cpu, maxLag, endLag, LatencyLog.quantile(delivery, 0.5),
            LatencyLog.quantile(delivery, 0.99), LatencyLog.quantile(roundTrip, 0.5),
            LatencyLog.quantile(roundTrip, 0.99), (agents.commandsSeen() - cmd0) / seconds, loadAverage());
        log.info("fleet simulator {}: {}", run, w);
        return w;
    }

    /** The 1-minute load average, or NaN where /proc/loadavg cannot be read. */
    private static double loadAverage() {
        try {
            return Double.parseDouble(java.nio.file.Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static long awaitConvergence(SimulatedAgents agents) throws InterruptedException {
        long t0 = System.nanoTime();
        while (agents.unsynced() > 0) {
            agents.checkAlive();
            if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) > CONVERGE_TIMEOUT_MS) return -1;
            Thread.sleep(50);
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    /** Samples the group every 50 ms from before a membership change until it is stable with the new count. */
    private static final class RebalanceClock {
        private final GroupWatch group;
        private final int members;
        private final long t0 = System.nanoTime();
        private final Thread thread;
        private volatile long unstableAt = -1;
        private volatile long stableAt = -1;
        private volatile RuntimeException failure;

        RebalanceClock(GroupWatch group, int members) {
            this.group = group;
            this.members = members;
            this.thread = new Thread(this::sample, "fleet-sim-rebalance-clock");
            thread.setDaemon(true);
        }

        RebalanceClock start() {
            thread.start();
            return this;
        }

        private void sample() {
            long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
            try {
                while (System.nanoTime() < deadline) {
                    GroupWatch.Shape s = group.shape();
                    long now = System.nanoTime();
                    if (s.state() != GroupState.STABLE && unstableAt < 0) unstableAt = now;
                    if (s.stableWith(members)) {
                        stableAt = now;
                        return;
                    }
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        FleetResult.Rebalance await(SimulatedAgents agents) throws InterruptedException {
            thread.join();
            if (failure != null) throw failure;
            if (stableAt < 0) throw new IllegalStateException("the group never became stable with " + members
                + " member(s) within 5 minutes");
            return new FleetResult.Rebalance(TimeUnit.NANOSECONDS.toMillis(stableAt - t0),
                unstableAt < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(stableAt - unstableAt), agents.takeLongestGapMs());
        }
    }
}
