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
import io.rtbackup.agent.exec.ExecutorParts;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.state.Incarnation;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.reconcile.KafkaResultSink;
import io.rtbackup.agent.reconcile.ReconcileMetrics;
import io.rtbackup.agent.reconcile.ReconcileScheduler;
import io.rtbackup.agent.reconcile.ResultSink;
import io.rtbackup.agent.reconcile.Reconciler;
import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.agent.transport.ProducerSettings;
import io.rtbackup.agent.transport.SharedProducer;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>Start-up watches first: {@link #start()} starts capture before anything else is built (the Kafka clients of
 * the executor, the control listener and the sinks, and the rsync version check, are most of a start's CPU), and
 * capture's publisher holds what it captures until the executor reads its partition of the commands topic (see
 * {@link #start()}).
 *
 * <p>One Kafka producer ({@link SharedProducer}) carries everything the agent publishes: events, command results,
 * root states and reconciliation results. The agent makes it (lazily: the event publisher's thread builds it) and
 * closes it, last, once every part that sends through it has stopped.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** Kept versions are pruned at most this long after start (the start-up rescan goes first), then periodically. */
    static final Duration PRUNE_FIRST_DELAY = Duration.ofMinutes(1);
    /** How long capture's publisher holds events for the command executor to reach its partition. */
    static final Duration EXECUTOR_READY_WAIT = Duration.ofSeconds(60);

    /** What runs next to capture: built by {@link #start()} once capture watches. */
    public record Services(CommandExecutor executor, VersionPruner pruner, ReconcileScheduler reconciles,
            ResultSink reconcileResults, RootSwitch rootSwitch, ControlListener control, StateSink states) {}

    private final AgentConfig config;
    private final CapturePipeline capture;
    private final Supplier<Services> wiring;
    private final FatalErrorHandler fatal;
    private final SharedProducer producer;
    private final CountDownLatch wired = new CountDownLatch(1);
    private volatile Services services;
    private boolean watching;
    private boolean closed;

    /**
     * @param wiring   builds the services after capture started; called once, by {@link #start()}
     * @param producer what capture and the services send through; closed by {@link #close()}, after them
     */
    public Agent(AgentConfig config, CapturePipeline capture, Supplier<Services> wiring, FatalErrorHandler fatal,
            SharedProducer producer) {
        this.config = config;
        this.capture = capture;
        this.wiring = wiring;
        this.fatal = fatal;
        this.producer = producer;
    }

    /**
     * The production wiring from a configuration; Kafka connection settings come from its {@code kafka.*} keys.
     * Builds the capture pipeline only (the agent's one Kafka producer is made by the event publisher's sender
     * thread); the rest is built by {@link #start()} once capture watches.
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
        SharedProducer producer = new SharedProducer("agent of host " + c.hostId(), () -> ProducerSettings
            .create(KafkaClientSettings.withClientDefaults(c.kafka()), c.hostId()));
        CapturePipeline capture = CapturePipeline.create(c, topics, kmod, registry, moves::observe, fatal, sequence,
            trust.signer(), producer);
        // Pauses stored at the last run hold from the first moment: capture starts without the paused roots.
        PauseLedger ledger = PauseLedger.load(config.stateDir());
        capture.pauseAtStart(ledger.paused());
        return new Agent(config, capture, () -> services(config, topics, registry, fatal, capture, moves, sequence,
            ledger, trust, producer), fatal, producer);
    }

    private static Services services(AgentConfig config, Topics topics, PrometheusRegistry registry,
            FatalErrorHandler fatal, CapturePipeline capture, RecentMoves moves, CaptureSequence sequence,
            PauseLedger ledger, Trust trust, SharedProducer producer) {
        CaptureConfig c = config.capture();
        Map<String, Object> kafka = new HashMap<>(KafkaClientSettings.withClientDefaults(c.kafka()));
        Map<String, byte[]> roots = new LinkedHashMap<>();
        CapturePipeline.watchedRoots(c).forEach(r -> roots.put(r.id(), r.absolutePath()));
        RsyncRunner runner = new RsyncRunner(config.exec().rsyncPath(), moves);
        // The root's excludes apply to every rsync run too, not only to captured events.
        Map<String, List<String>> excludes = new LinkedHashMap<>();
        c.roots().forEach(r -> excludes.put(r.id(), r.excludes()));
        Map<String, byte[]> allRoots = roots;
        Reconciler[] reconcilerRef = new Reconciler[1];
        StateSink states = new KafkaStateSink(topics, producer.get(), trust.signer(), fatal);
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
        CommandExecutor executor = new CommandExecutor(ExecutorParts.connect(c.hostId(), topics, kafka, roots, excludes,
            config.exec(), runner, producer.get(), registry, fatal).withSequence(sequence).withHold(rootSwitch)
            .withTrust(trust));
        // Each root's default tree, plus trees the worker routed elsewhere that this agent kept versions in.
        VersionPruner pruner = new VersionPruner(config.exec(), d -> {
            Set<String> dirs = new TreeSet<>(runner.versionedDirs(d.name()));
            for (String root : roots.keySet()) dirs.add(c.hostId() + "/" + root);
            return dirs;
        }, Clock.systemUTC());
        // Reconciliation goes through its own validator (same rules as commands) and the executor's runner (its
        // per-tree lock), reporting on the results topic.
        ResultSink results = new KafkaResultSink(c.hostId(), topics, producer.get(), trust.signer(), fatal);
        Reconciler reconciler = new Reconciler(c.hostId(), new CommandValidator(c.hostId(), roots,
            config.exec().destinations()), runner, new ReconcileMetrics(registry), results, Clock.systemUTC());
        reconcilerRef[0] = reconciler;
        // A paused root is not reconciled on schedule: its resume does it.
        ReconcileScheduler reconciles = new ReconcileScheduler(c.hostId(), config.reconcile(),
            () -> runner.replicatedTrees().stream().filter(t -> rootSwitch.why(t.rootId()).isEmpty()).toList(),
            reconciler::reconcile, System::nanoTime);
        ControlListener control = ControlListener.create(c.hostId(), topics, kafka,
            new ControlAcceptance(c.hostId(), roots.keySet(), registry, trust), rootSwitch, fatal);
        return new Services(executor, pruner, reconciles, results, rootSwitch, control, states);
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

    /**
     * Starts capture alone and returns once its source watches (its marks are placed): every change made from then
     * on is captured and, once {@link #start()} has built the services and the executor reads its partition of the
     * commands topic, published (until then it waits in the publisher's buffer, the start-up rescan first). Needs
     * no Kafka. A no-op when capture already runs; {@link #start()} calls it. The caller that watches without
     * starting must start or close the agent: the publisher holds events for {@link #EXECUTOR_READY_WAIT} at most,
     * counted from here.
     */
    public synchronized Agent watch() throws CaptureUnavailableException {
        if (closed) throw new IllegalStateException("agent closed");
        if (!watching) {
            capture.start(this::executorReady, EXECUTOR_READY_WAIT);
            watching = true;
        }
        return this;
    }

    /**
     * Watches first ({@link #watch()}, unless the caller did), without waiting for Kafka: capture starts before the
     * services are built, and its publisher holds what it captures (the start-up rescan first) until the executor
     * reads its partition of the commands topic. No event reaches Kafka before that position is taken, so every
     * command a worker sends in answer to one (written after the event) lies after it and is seen: the guarantee the
     * old order (executor ready, then capture) gave, without capture waiting for it.
     */
    public synchronized Agent start() throws CaptureUnavailableException, InterruptedException {
        watch();
        if (services != null) throw new IllegalStateException("agent already started");
        Services s;
        try {
            s = wiring.get();
        } catch (RuntimeException | Error e) {
            capture.close();
            producer.close(Duration.ofSeconds(10));
            throw e;
        }
        services = s;
        wired.countDown();
        s.executor().start();
        Duration every = config.exec().versionsPruneInterval();
        s.pruner().start(every.compareTo(PRUNE_FIRST_DELAY) < 0 ? every : PRUNE_FIRST_DELAY, every);
        s.reconciles().start(fatal);
        s.rootSwitch().publishAll();
        s.control().start();
        log.info("agent up: host {}, capture source {}, destinations {}", config.capture().hostId(),
            capture.source() == null ? "none (every root paused)" : capture.source().name(),
            config.exec().destinations().keySet());
        return this;
    }

    /**
     * Whether the executor reads its command partition, waiting up to {@code timeout}. On a host's very first start
     * reading begins at the partition's end, so a command written before this returns true may never be run (its
     * worker issues it again when it times out).
     */
    public boolean awaitCommandsRead(Duration timeout) throws InterruptedException {
        return executorReady(timeout);
    }

    /** The publisher's gate: open once the services are built and the executor reads its command partition. */
    private boolean executorReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!wired.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) return false;
        return services.executor().awaitReady(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    private Services started() {
        Services s = services;
        if (s == null) throw new IllegalStateException("agent not started");
        return s;
    }

    /** The pause switch of this agent's roots; after {@link #start()}. */
    public RootSwitch rootSwitch() {
        return started().rootSwitch();
    }

    /** Whether the control topic as it was at start has been read and applied, waiting up to {@code timeout}. */
    public boolean awaitControlCaughtUp(Duration timeout) throws InterruptedException {
        return started().control().awaitCaughtUp(timeout);
    }

    public CapturePipeline capture() {
        return capture;
    }

    /** After {@link #start()}. */
    public CommandExecutor executor() {
        return started().executor();
    }

    /**
     * Reconciles every replica tree the executor has run into now, in the calling thread (after a scheduled one
     * in progress), and returns what each found.
     */
    public List<Reconciliation> reconcileNow() {
        return started().reconciles().runAllNow();
    }

    @Override
    public synchronized void close() {
        closed = true;
        Services s = services;
        if (s != null) {
            s.control().close();
            s.states().close();
            s.reconciles().close();
            s.reconcileResults().close();
            s.pruner().close();
        }
        capture.close();
        if (s != null) s.executor().close();
        // last: the parts above may still have handed it records (the executor's final results, the last events)
        producer.close(Duration.ofSeconds(10));
    }
}
