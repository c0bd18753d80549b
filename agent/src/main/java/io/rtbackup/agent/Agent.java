package io.rtbackup.agent;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.kmod.KmodMetrics;
import io.rtbackup.agent.capture.kmod.KmodSource;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.control.CaptureSwitch;
import io.rtbackup.agent.control.ControlAcceptance;
import io.rtbackup.agent.control.ControlListener;
import io.rtbackup.agent.control.KafkaStateSink;
import io.rtbackup.agent.control.RootSwitch;
import io.rtbackup.agent.control.StateSink;
import io.rtbackup.agent.state.PauseLedger;
import io.rtbackup.agent.trust.Trust;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.exec.CommandExecutor;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.state.Incarnation;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.reconcile.KafkaResultSink;
import io.rtbackup.agent.reconcile.ReconcileMetrics;
import io.rtbackup.agent.reconcile.ReconcileScheduler;
import io.rtbackup.agent.reconcile.ResultSink;
import io.rtbackup.agent.reconcile.Reconciler;
import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.agent.versions.VersionPruner;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 * pruned shortly after start and hourly ({@link VersionPruner}). Each replica tree is reconciled by a whole-root
 * rsync on a schedule ({@link ReconcileScheduler}), which repairs what capture or delivery missed. An operator's
 * pause of a root ({@link RootSwitch}, heard on the control topic by the {@link ControlListener}) stops its capture,
 * its commands and its scheduled reconciliation until the resume, which reconciles it.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** Kept versions are pruned at most this long after start (the start-up rescan goes first), then periodically. */
    static final Duration PRUNE_FIRST_DELAY = Duration.ofMinutes(1);

    private final AgentConfig config;
    private final CapturePipeline capture;
    private final CommandExecutor executor;
    private final VersionPruner pruner;
    private final ReconcileScheduler reconciles;
    private final FatalErrorHandler fatal;
    private final ResultSink reconcileResults;
    private final RootSwitch rootSwitch;
    private final ControlListener control;
    private final StateSink states;

    public Agent(AgentConfig config, CapturePipeline capture, CommandExecutor executor, VersionPruner pruner,
            ReconcileScheduler reconciles, ResultSink reconcileResults, RootSwitch rootSwitch, ControlListener control,
            StateSink states, FatalErrorHandler fatal) {
        this.config = config;
        this.rootSwitch = rootSwitch;
        this.control = control;
        this.states = states;
        this.capture = capture;
        this.executor = executor;
        this.pruner = pruner;
        this.reconciles = reconciles;
        this.reconcileResults = reconcileResults;
        this.fatal = fatal;
    }

    /**
     * The production wiring from a configuration; Kafka connection settings come from its {@code kafka.*} keys.
     *
     * @param fatal told by capture, publisher and executor of a failure that no retry or rescan covers
     */
    public static Agent create(AgentConfig config, Topics topics, PrometheusRegistry registry,
            FatalErrorHandler fatal) {
        CaptureConfig c = config.capture();
        KmodMetrics kmodMetrics = KmodMetrics.register(registry);
        Supplier<CaptureSource> kmod = () -> new KmodSource(kmodMetrics, fatal);
        // renames seen by capture let the executor send moved paths as deltas against their old copies
        RecentMoves moves = RecentMoves.standard();
        // Numbered from this run's stored incarnation, so results order against events without any clock.
        CaptureSequence sequence = new CaptureSequence(Incarnation.next(config.stateDir(), Clock.systemUTC()));
        // This host's key signs what it publishes; the workers' keys decide which commands and switches it takes.
        Trust trust = Trust.of(c.hostId(), config.signing(), registry);
        CapturePipeline capture = CapturePipeline.create(c, topics, kmod, registry, moves::observe, fatal, sequence,
            trust.signer());
        Map<String, Object> kafka = new HashMap<>(KafkaClientSettings.withClientDefaults(c.kafka()));
        Map<String, byte[]> roots = new LinkedHashMap<>();
        CapturePipeline.watchedRoots(c).forEach(r -> roots.put(r.id(), r.absolutePath()));
        RsyncRunner runner = new RsyncRunner(config.exec().rsyncPath(), moves);
        // The root's excludes apply to every rsync run too, not only to captured events.
        Map<String, List<String>> excludes = new LinkedHashMap<>();
        c.roots().forEach(r -> excludes.put(r.id(), r.excludes()));
        // Pauses stored at the last run hold from the first moment: capture starts without the paused roots.
        PauseLedger ledger = PauseLedger.load(config.stateDir());
        capture.pauseAtStart(ledger.paused());
        Map<String, byte[]> allRoots = roots;
        Reconciler[] reconcilerRef = new Reconciler[1];
        StateSink states = KafkaStateSink.create(c.hostId(), topics, kafka, trust.signer());
        RootSwitch rootSwitch = new RootSwitch(c.hostId(), List.copyOf(roots.keySet()), ledger, new CaptureSwitch() {
            @Override
            public void watchAllBut(Set<String> paused) throws CaptureUnavailableException {
                capture.pause(paused);
            }

            @Override
            public void rescan(String rootId, String why) {
                capture.rescan(rootId, why);
            }
        }, root -> catchUp(c.hostId(), root, allRoots, config, runner, reconcilerRef[0]), states, Clock.systemUTC(),
            fatal);
        CommandExecutor executor = CommandExecutor.create(c.hostId(), topics, kafka, roots, excludes, config.exec(),
            registry, runner, fatal, sequence, rootSwitch, trust);
        // Each root's default tree, plus trees the worker routed elsewhere that this agent kept versions in.
        VersionPruner pruner = new VersionPruner(config.exec(), d -> {
            Set<String> dirs = new TreeSet<>(runner.versionedDirs(d.name()));
            for (String root : roots.keySet()) dirs.add(c.hostId() + "/" + root);
            return dirs;
        }, Clock.systemUTC());
        // Reconciliation goes through its own validator (same rules as commands) and the executor's runner (its
        // per-tree lock), reporting on the results topic with a producer of its own.
        ResultSink results = KafkaResultSink.create(c.hostId(), topics, kafka, trust.signer());
        Reconciler reconciler = new Reconciler(c.hostId(), new CommandValidator(c.hostId(), roots,
            config.exec().destinations()), runner, new ReconcileMetrics(registry), results, Clock.systemUTC());
        reconcilerRef[0] = reconciler;
        // A paused root is not reconciled on schedule: its resume does it.
        ReconcileScheduler reconciles = new ReconcileScheduler(c.hostId(), config.reconcile(),
            () -> runner.replicatedTrees().stream().filter(t -> rootSwitch.why(t.rootId()).isEmpty()).toList(),
            reconciler::reconcile, System::nanoTime);
        ControlListener control = ControlListener.create(c.hostId(), topics, kafka,
            new ControlAcceptance(c.hostId(), roots.keySet(), registry, trust), rootSwitch, fatal);
        return new Agent(config, capture, executor, pruner, reconciles, results, rootSwitch, control, states, fatal);
    }

    /**
     * The catch-up of a resumed root: a reconciliation of each tree the root was replicated into during this run,
     * or, when it has none (paused since before this start), of {@code <host>/<root>} on every destination, as
     * {@code rtb reconcile} does.
     */
    private static List<Reconciliation> catchUp(String hostId, String root, Map<String, byte[]> roots,
            AgentConfig config, RsyncRunner runner, Reconciler reconciler) {
        List<RsyncRunner.ReplicatedTree> trees = runner.replicatedTrees().stream()
            .filter(t -> t.rootId().equals(root)).toList();
        if (trees.isEmpty()) {
            trees = config.exec().destinations().keySet().stream().sorted()
                .map(d -> new RsyncRunner.ReplicatedTree(root, d, hostId + "/" + root)).toList();
        }
        return trees.stream().map(reconciler::reconcile).toList();
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
        reconciles.start(fatal);
        rootSwitch.publishAll();
        control.start();
        log.info("agent up: host {}, capture source {}, destinations {}", config.capture().hostId(),
            capture.source() == null ? "none (every root paused)" : capture.source().name(),
            config.exec().destinations().keySet());
        return this;
    }

    /** The pause switch of this agent's roots. */
    public RootSwitch rootSwitch() {
        return rootSwitch;
    }

    /** Whether the control topic as it was at start has been read and applied, waiting up to {@code timeout}. */
    public boolean awaitControlCaughtUp(Duration timeout) throws InterruptedException {
        return control.awaitCaughtUp(timeout);
    }

    public CapturePipeline capture() {
        return capture;
    }

    public CommandExecutor executor() {
        return executor;
    }

    /**
     * Reconciles every replica tree the executor has run into now, in the calling thread (after a scheduled one
     * in progress), and returns what each found.
     */
    public List<Reconciliation> reconcileNow() {
        return reconciles.runAllNow();
    }

    @Override
    public void close() {
        control.close();
        states.close();
        reconciles.close();
        reconcileResults.close();
        pruner.close();
        capture.close();
        executor.close();
    }
}
