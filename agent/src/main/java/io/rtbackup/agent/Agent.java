package io.rtbackup.agent;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.kmod.KmodMetrics;
import io.rtbackup.agent.capture.kmod.KmodSource;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.exec.CommandExecutor;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.state.Incarnation;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.versions.VersionPruner;
import io.rtbackup.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-host agent process: the capture pipeline (changes to FileEvents on Kafka) and the command executor
 * (SyncCommands to rsync runs and SyncResults). The two share only the configuration: capture never waits for
 * rsync, and a slow destination never delays capture. Destinations that keep versions get their old versions
 * pruned shortly after start and hourly ({@link VersionPruner}).
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** Kept versions are pruned at most this long after start (the start-up rescan goes first), then periodically. */
    static final Duration PRUNE_FIRST_DELAY = Duration.ofMinutes(1);

    private final AgentConfig config;
    private final CapturePipeline capture;
    private final CommandExecutor executor;
    private final VersionPruner pruner;

    public Agent(AgentConfig config, CapturePipeline capture, CommandExecutor executor, VersionPruner pruner) {
        this.config = config;
        this.capture = capture;
        this.executor = executor;
        this.pruner = pruner;
    }

    /** The production wiring from a configuration; Kafka connection settings come from its {@code kafka.*} keys. */
    public static Agent create(AgentConfig config, Topics topics, PrometheusRegistry registry) {
        CaptureConfig c = config.capture();
        KmodMetrics kmodMetrics = KmodMetrics.register(registry);
        Supplier<CaptureSource> kmod = () -> new KmodSource(kmodMetrics);
        // renames seen by capture let the executor send moved paths as deltas against their old copies
        RecentMoves moves = RecentMoves.standard();
        // Numbered from this run's stored incarnation, so results order against events without any clock.
        CaptureSequence sequence = new CaptureSequence(Incarnation.next(config.stateDir(), Clock.systemUTC()));
        CapturePipeline capture = CapturePipeline.create(c, topics, kmod, registry, moves::observe, sequence);
        Map<String, Object> kafka = new HashMap<>(c.kafka());
        Map<String, byte[]> roots = new LinkedHashMap<>();
        CapturePipeline.watchedRoots(c).forEach(r -> roots.put(r.id(), r.absolutePath()));
        RsyncRunner runner = new RsyncRunner(config.exec().rsyncPath(), moves);
        CommandExecutor executor = CommandExecutor.create(c.hostId(), topics, kafka, roots, config.exec(), registry,
            runner, sequence);
        // Each root's default tree, plus trees the worker routed elsewhere that this agent kept versions in.
        VersionPruner pruner = new VersionPruner(config.exec(), d -> {
            Set<String> dirs = new TreeSet<>(runner.versionedDirs(d.name()));
            for (String root : roots.keySet()) dirs.add(c.hostId() + "/" + root);
            return dirs;
        }, Clock.systemUTC());
        return new Agent(config, capture, executor, pruner);
    }

    /** Starts the executor first, so commands answering the start-up rescan find it listening. */
    public Agent start() throws CaptureUnavailableException, InterruptedException {
        executor.start();
        if (!executor.awaitReady(Duration.ofSeconds(60))) {
            log.warn("host {}: the command executor has no partition of the commands topic after 60 s; is Kafka "
                + "reachable at {}?", config.capture().hostId(), config.capture().kafka().get("bootstrap.servers"));
        }
        capture.start();
        Duration every = config.exec().versionsPruneInterval();
        pruner.start(every.compareTo(PRUNE_FIRST_DELAY) < 0 ? every : PRUNE_FIRST_DELAY, every);
        log.info("agent up: host {}, capture source {}, destinations {}", config.capture().hostId(),
            capture.source().name(), config.exec().destinations().keySet());
        return this;
    }

    public CapturePipeline capture() {
        return capture;
    }

    public CommandExecutor executor() {
        return executor;
    }

    @Override
    public void close() {
        pruner.close();
        capture.close();
        executor.close();
    }
}
