package io.rtbackup.agent;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureSelection;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.agent.exclude.ExcludeMatcher;
import io.rtbackup.agent.capture.normalise.Normaliser;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.CaptureConfig.SourceChoice;
import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.event.EventSink;
import io.rtbackup.agent.transport.EventPublisher;
import io.rtbackup.agent.transport.ProducerSettings;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.agent.transport.PublishGate;
import io.rtbackup.agent.transport.SharedProducer;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.agent.transport.PublishListener;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture source -> normaliser -> publisher, started and stopped in the right order: the publisher first so
 * nothing captured waits for it, the start-up rescan after the source is live so changes made meanwhile are
 * covered, and on stop the source first so the last events still get out. It sits above both capture and
 * transport, which meet only in {@link io.rtbackup.agent.event}: neither package knows the other.
 *
 * <p>Paused roots ({@link #pause}) are not watched: the running source is narrowed in place when it can (the
 * kernel module, whose momentary switch-off is covered by a rescan of the roots still watched), otherwise a new
 * source on the remaining roots is started before the old one is closed, so no watched root is ever uncovered
 * (the overlap only duplicates events, which is harmless). With every root paused no source runs.
 */
public final class CapturePipeline implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CapturePipeline.class);

    private final CaptureConfig config;
    private final CaptureSelection selection;
    private final EventPublisher publisher;
    private final Normaliser normaliser;
    private CaptureSource source;
    private boolean started;
    private final Set<String> paused = new TreeSet<>();

    public CapturePipeline(CaptureConfig config, CaptureSelection selection, EventPublisher publisher,
            PrometheusRegistry registry, FatalErrorHandler fatal) {
        this(config, selection, publisher, registry, e -> { }, fatal);
    }

    /**
     * @param tap   sees every normalised event before it is published (e.g. renames for the executor); must not
     *     block
     * @param fatal told when a loss can be covered by no rescan (the normaliser's merge-window flusher)
     */
    public CapturePipeline(CaptureConfig config, CaptureSelection selection, EventPublisher publisher,
            PrometheusRegistry registry, EventSink tap, FatalErrorHandler fatal) {
        this.config = config;
        this.selection = selection;
        this.publisher = publisher;
        List<Normaliser.Root> roots = config.roots().stream()
                .map(r -> new Normaliser.Root(watched(r), new ExcludeMatcher(r.excludes())))
                .toList();
        EventSink out = e -> {
            tap.accept(e);
            publisher.accept(e);
        };
        this.normaliser = new Normaliser(roots, config.mergeWindow(), out, registry, fatal);
    }

    /**
     * The standard wiring: a Kafka producer of its own from the config's {@code kafka.*} settings and the standard
     * source order.
     *
     * @param kmod  creates the kernel-module source; null when there is none
     * @param fatal told, by every part, of a failure that no retry or rescan covers
     */
    public static CapturePipeline create(CaptureConfig config, Topics topics, Supplier<CaptureSource> kmod,
            PrometheusRegistry registry, FatalErrorHandler fatal) {
        return create(config, topics, kmod, registry, e -> { }, fatal);
    }

    public static CapturePipeline create(CaptureConfig config, Topics topics, Supplier<CaptureSource> kmod,
            PrometheusRegistry registry, EventSink tap, FatalErrorHandler fatal) {
        return create(config, topics, kmod, registry, tap, fatal, CaptureSequence.unknown());
    }

    /** @param sequence numbers the published events (the executor stamps results from the same one) */
    public static CapturePipeline create(CaptureConfig config, Topics topics, Supplier<CaptureSource> kmod,
            PrometheusRegistry registry, EventSink tap, FatalErrorHandler fatal, CaptureSequence sequence) {
        checkBootstrap(config);
        // the producer is made by the publisher's thread: building it costs more than starting to watch
        Supplier<Producer<byte[], byte[]>> own = () -> ProducerSettings.create(
                KafkaClientSettings.withClientDefaults(config.kafka()), config.hostId());
        return assemble(config, kmod, registry, tap, fatal, new EventPublisher(config.hostId(), topics, own, true,
                config.publishBufferEvents(), registry, PublishListener.NONE, fatal, sequence, RecordSigner.NONE));
    }

    /**
     * The agent's wiring: events go through the agent's {@code producer}, which the agent closes.
     *
     * @param signer signs every published event with this host's key
     */
    public static CapturePipeline create(CaptureConfig config, Topics topics, Supplier<CaptureSource> kmod,
            PrometheusRegistry registry, EventSink tap, FatalErrorHandler fatal, CaptureSequence sequence,
            RecordSigner signer, SharedProducer producer) {
        checkBootstrap(config);
        return assemble(config, kmod, registry, tap, fatal, new EventPublisher(config.hostId(), topics, producer, false,
                config.publishBufferEvents(), registry, PublishListener.NONE, fatal, sequence, signer));
    }

    private static CapturePipeline assemble(CaptureConfig config, Supplier<CaptureSource> kmod,
            PrometheusRegistry registry, EventSink tap, FatalErrorHandler fatal, EventPublisher publisher) {
        return new CapturePipeline(config, CaptureSelection.standard(kmod, config.scanInterval(), fatal), publisher,
                registry, tap, fatal);
    }

    private static void checkBootstrap(CaptureConfig config) {
        String bootstrap = config.kafka().get("bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ConfigException("kafka.bootstrap.servers", "missing: the Kafka brokers to publish events to,"
                    + " e.g. kafka.bootstrap.servers=broker1:9092,broker2:9092");
        }
    }

    /** The configured roots as capture sees them: id and absolute path bytes (the configured text as UTF-8). */
    public static List<WatchedRoot> watchedRoots(CaptureConfig config) {
        return config.roots().stream().map(CapturePipeline::watched).toList();
    }

    private static WatchedRoot watched(CaptureConfig.RootConfig root) {
        return WatchedRoot.of(root.id(), root.path());
    }

    public synchronized void start() throws CaptureUnavailableException {
        start(PublishGate.OPEN, Duration.ZERO);
    }

    /**
     * Starts watching now and publishing once {@code gate} opens (or {@code maxHold} passed): what is captured
     * meanwhile, the start-up rescan included, waits in the publisher's buffer.
     */
    public synchronized void start(PublishGate gate, Duration maxHold) throws CaptureUnavailableException {
        if (started) throw new IllegalStateException("capture pipeline already started");
        started = true;
        publisher.start(gate, maxHold);
        normaliser.start();
        List<WatchedRoot> active = active();
        try {
            source = active.isEmpty() ? null : selection.start(config.source(), active,
                    s -> normaliser.sinkFor(s.kind()));
        } catch (CaptureUnavailableException | RuntimeException e) {
            normaliser.close();
            publisher.close(Duration.ofSeconds(5));
            throw e;
        }
        if (config.startupRescan() && source != null) {
            normaliser.rescanRoots(ids(active), source.kind(), "agent start-up");
        }
        log.info("capture pipeline running: host {}, source {}, roots {}{}", config.hostId(),
                source == null ? "none" : source.name(), ids(active), paused.isEmpty() ? "" : ", paused " + paused);
    }

    /** Decides which roots {@link #start()} leaves unwatched (paused at the last run). */
    public synchronized void pauseAtStart(Set<String> rootIds) {
        if (started) throw new IllegalStateException("capture pipeline already started; use pause()");
        paused.clear();
        paused.addAll(rootIds);
    }

    /**
     * Stops watching the roots {@code rootIds} (and resumes watching every other root that was paused), on the
     * running pipeline. Returns at once when nothing changes.
     *
     * @throws CaptureUnavailableException when no source could be set up on the roots left; the roots that were
     *     watched may then be unwatched, which the caller must treat as a loss no rescan covers
     */
    public synchronized void pause(Set<String> rootIds) throws CaptureUnavailableException {
        if (paused.equals(rootIds)) return;
        List<String> watchedBefore = ids(active());
        paused.clear();
        paused.addAll(rootIds);
        if (!started) throw new IllegalStateException("capture pipeline not started; use pauseAtStart()");
        List<WatchedRoot> active = active();
        if (source != null && source.retarget(active)) {
            // the source was off for a moment: rescan what it watched before and still does; a root just resumed
            // is caught up by its resume's reconciliation, which then also counts what changed while it was off
            List<String> stillWatched = ids(active).stream().filter(watchedBefore::contains).toList();
            if (!stillWatched.isEmpty()) normaliser.rescanRoots(stillWatched, source.kind(), "capture was reconfigured");
        } else {
            CaptureSource old = source;
            // the running source's kind, so a reconfiguration never changes how this host captures
            SourceChoice choice = old == null ? config.source() : SourceChoice.valueOf(old.name().toUpperCase(Locale.ROOT));
            source = active.isEmpty() ? null : selection.start(choice, active, s -> normaliser.sinkFor(s.kind()));
            if (old != null) old.close();
        }
        log.info("capture: host {} watches roots {}, paused {} (source {})", config.hostId(), ids(active), paused,
                source == null ? "none" : source.name());
    }

    /** Publishes a RESCAN of {@code rootId} now (a whole-root sync through the workers). */
    public synchronized void rescan(String rootId, String why) {
        normaliser.rescanRoots(List.of(rootId), source == null ? io.rtbackup.schema.CaptureSource.SCAN : source.kind(),
                why);
    }

    private List<WatchedRoot> active() {
        return watchedRoots(config).stream().filter(r -> !paused.contains(r.id())).toList();
    }

    private static List<String> ids(List<WatchedRoot> roots) {
        return roots.stream().map(WatchedRoot::id).toList();
    }

    /** The running source, or null before {@link #start()} and while every root is paused. */
    public synchronized CaptureSource source() {
        return source;
    }

    public Normaliser normaliser() {
        return normaliser;
    }

    public EventPublisher publisher() {
        return publisher;
    }

    @Override
    public synchronized void close() {
        if (source != null) source.close();
        normaliser.close();
        publisher.close(Duration.ofSeconds(10));
        log.info("capture pipeline stopped: host {}", config.hostId());
    }
}
