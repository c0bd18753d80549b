package io.rtbackup.worker;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.pipeline.DestinationPipeline;
import io.rtbackup.worker.pipeline.PipelineStatus;
import io.rtbackup.worker.signing.RecordAuthenticity;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.SigningSettings;
import io.rtbackup.worker.status.StatusPublisher;
import io.rtbackup.worker.status.SyncHistory;
import io.rtbackup.worker.transport.KafkaTransport;
import io.rtbackup.worker.transport.ResultListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stateless backup worker: one {@link DestinationPipeline} per destination it serves, one results listener and
 * one producer shared by them. Any number of workers may run against the same topics; each destination's group
 * spreads the event partitions over them, and a worker that dies is replaced by a rebalance (its uncommitted
 * events replay, which only means duplicate rsyncs). A worker is a static member of each group (see
 * {@link #groupInstanceId}): restarted under the same id it gets its partitions back without a wait, while one that
 * dies for good hands them over once its session ({@code kafka.session.timeout.ms}) times out.
 *
 * <p>Every {@code status.interval-ms} it publishes a status record per destination to the status topic (see
 * {@link StatusPublisher}), for {@code rtb status} and the status page.
 *
 * <p>A pipeline or results thread that ends before {@link #close()} asked it to (an exception escaped it, or it
 * returned) is reported to the {@link FatalErrorHandler}: a worker missing one of them would keep its
 * partitions while nothing replicates them (or every command timing out), so the process ends and its
 * partitions go to a fresh one, where the uncommitted events replay.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final WorkerConfig config;
    private final Topics topics;
    private final String bootstrapServers;
    private final PrometheusRegistry registry;
    private final SyncListener listener;
    private final FatalErrorHandler fatal;
    private final List<DestinationPipeline> pipelines = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private WorkerMetrics metrics;
    private KafkaTransport transport;
    private StatusPublisher statusPublisher;
    private ResultListener results;
    private Thread resultsThread;
    /** Verifies polled events' signatures beside the pipeline threads (null without a keyring or a second core). */
    private ExecutorService verifyPool;
    private boolean started;
    private boolean closed;
    private volatile boolean closing;

    /** @param fatal told when a pipeline or the results listener stops without being asked to */
    public Worker(WorkerConfig config, Topics topics, String bootstrapServers, PrometheusRegistry registry,
                  FatalErrorHandler fatal) {
        this(config, topics, bootstrapServers, registry, SyncListener.NONE, fatal);
    }

    public Worker(WorkerConfig config, Topics topics, String bootstrapServers, PrometheusRegistry registry,
                  SyncListener listener, FatalErrorHandler fatal) {
        this.config = config;
        this.topics = topics;
        this.bootstrapServers = bootstrapServers;
        this.registry = registry;
        this.listener = listener;
        this.fatal = fatal;
    }

    /**
     * Starts the results listener, waits until it reads from the end of the results topic (so no result of a
     * command issued from now on can be missed), then starts one pipeline thread per destination.
     *
     * @throws IllegalStateException when the results topic cannot be read within a minute
     */
    public synchronized void start() {
        if (started) throw new IllegalStateException("worker " + config.workerId() + " already started");
        started = true;
        metrics = new WorkerMetrics(registry);
        // Its key signs the commands; the hosts' keys decide whose events and results count.
        config.signing().warning("events and results").ifPresent(w -> log.warn("worker {}: {}", config.workerId(), w));
        RecordSigner signer = config.signing().signer();
        if (!signer.signs()) {
            log.warn("worker {}: no {} set: its commands are not signed; agents with a keyring refuse them",
                config.workerId(), SigningSettings.KEY);
        }
        transport = new KafkaTransport(bootstrapServers, topics, config.workerId(), kafka(), signer);
        int helpers = verifyHelpers(Runtime.getRuntime().availableProcessors());
        if (config.signing().verifier().verifies() && helpers > 0) verifyPool = newVerifyPool(helpers);
        RecordAuthenticity authenticity = RecordAuthenticity.of(config.workerId(), config.signing().verifier(),
            registry, transport, verifyPool, helpers);
        // Pipelines are created once results can be read; none exists before, so no result can be missed.
        Map<String, DestinationPipeline> byName = new ConcurrentHashMap<>();
        Map<String, Consumer<SyncResult>> byDestination = new HashMap<>();
        for (DestinationConfig d : config.destinations()) {
            byDestination.put(d.name(), r -> {
                DestinationPipeline p = byName.get(r.getDestination());
                if (p != null) p.deliver(r);
            });
        }
        results = new ResultListener(bootstrapServers, topics, config.workerId(), byDestination, kafka(), metrics,
            authenticity);
        resultsThread = new Thread(supervised("results listener", results), "rtb-worker-results");
        resultsThread.setDaemon(true);
        resultsThread.start();
        try {
            if (!results.awaitPositioned(Duration.ofMinutes(1))) {
                close();
                throw new IllegalStateException("worker " + config.workerId() + ": cannot read the results topic '"
                    + topics.results() + "' at " + bootstrapServers + " within 1 minute; is the broker up and the topic created?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while starting worker " + config.workerId(), e);
        }
        SyncHistory history = new SyncHistory(System::currentTimeMillis);
        SyncListener toldOfEverything = history.andThen(listener);
        for (DestinationConfig d : config.destinations()) {
            DestinationPipeline p = new DestinationPipeline(config, d, topics, newEventConsumer(d), transport, transport,
                metrics, toldOfEverything, System::nanoTime, authenticity);
            pipelines.add(p);
            byName.put(d.name(), p);
        }
        for (DestinationPipeline p : pipelines) {
            Thread t = new Thread(supervised("pipeline of destination " + p.destination(), () -> {
                p.run();
                if (p.fenced()) {
                    throw new IllegalStateException("another worker started with worker.id " + config.workerId()
                        + " and took over destination " + p.destination() + "; give every worker its own id");
                }
            }),
                "rtb-worker-" + p.destination());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        statusPublisher = new StatusPublisher(config.workerId(), config.statusInterval(), this::status, history,
            transport, System::currentTimeMillis);
        statusPublisher.start();
        log.info("worker {} started: destinations {}, events {}, commands {}, results {}", config.workerId(),
            pipelines.stream().map(DestinationPipeline::destination).toList(), topics.events(), topics.commands(),
            topics.results());
    }

    /** {@code body}, reporting as fatal its end unless {@link #close()} asked for it. */
    private Runnable supervised(String part, Runnable body) {
        String component = "worker " + config.workerId() + ": " + part;
        return () -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                if (!closing) {
                    fatal.fatal(component, e);
                } else {
                    // nothing lost: what it had not committed replays in whichever worker gets the partitions
                    log.warn("{} failed while stopping: {}", component, e.toString());
                }
                return;
            }
            if (!closing) fatal.fatal(component, new IllegalStateException(part + " stopped on its own"));
        };
    }

    /** The kafka.* settings with the pipeline clients' defaults (see KafkaClientSettings#withClientDefaults). */
    private Map<String, String> kafka() {
        return KafkaClientSettings.withClientDefaults(config.kafka());
    }

    private KafkaConsumer<byte[], byte[]> newEventConsumer(DestinationConfig d) {
        Map<String, Object> props = new HashMap<>(kafka());
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, d.consumerGroup());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-worker-" + config.workerId() + "-" + d.name());
        // Static membership: a restarted worker (same id) takes its dead incarnation's place and partitions at once,
        // instead of waiting out that member's session timeout (45 s by default).
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, groupInstanceId(config.workerId(), d.name()));
        // Not KIP-848's protocol: there a restarted static member is refused (UnreleasedInstanceIdException) until
        // the dead incarnation's session expires, and the consumer then stays failed; measured, it never recovered.
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CLASSIC.name().toLowerCase(Locale.ROOT));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Never jump silently: a missing or out-of-range offset must become full-root syncs (see OffsetControl).
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new KafkaConsumer<>(props);
    }

    /**
     * This worker's static member name in a destination's group (Kafka's {@code group.instance.id}). The classic
     * group protocol lets a member that rejoins under the same name take over from its previous incarnation at once.
     * Two live workers with the same id therefore cannot share a destination: the later one fences the earlier,
     * whose pipelines stop (see {@code DestinationPipeline}); the earlier one's uncommitted events replay on the
     * later one, so nothing is lost.
     */
    public static String groupInstanceId(String workerId, String destination) {
        return DestinationGroup.member(workerId, destination);
    }

    /** Waits until every pipeline has joined its group and positioned its partitions. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!pipelines.isEmpty() && pipelines.stream().allMatch(DestinationPipeline::ready)) return true;
            Thread.sleep(20);
        }
        return false;
    }

    /**
     * True once another live worker with this worker's id took a destination's group place over (see
     * {@link #groupInstanceId}); that destination's pipeline has stopped, and this worker should end.
     */
    public boolean fenced() {
        return pipelines.stream().anyMatch(DestinationPipeline::fenced);
    }

    /** Per destination: breaker state, pause, pending paths, commands in flight, lag. */
    public Map<String, PipelineStatus> status() {
        Map<String, PipelineStatus> out = new LinkedHashMap<>();
        for (DestinationPipeline p : pipelines) out.put(p.destination(), p.status());
        return out;
    }

    public String workerId() {
        return config.workerId();
    }

    /** Stops the pipelines (each commits what is done), then the results listener and the producer. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closing = true;
        for (DestinationPipeline p : pipelines) p.stop();
        for (Thread t : threads) joinQuietly(t);
        if (statusPublisher != null) statusPublisher.close();
        if (results != null) results.stop();
        if (resultsThread != null) joinQuietly(resultsThread);
        if (verifyPool != null) verifyPool.shutdown(); // the pipelines have stopped: nothing waits on it
        if (transport != null) transport.close();
        if (metrics != null) metrics.close();
        log.info("worker {} stopped", config.workerId());
    }

    /**
     * Threads that verify a polled batch's signatures beside its pipeline thread: one per further core, at most 3
     * (Ed25519 verification is the largest cost of a storm's events; a worker shares its cores with Kafka's client).
     */
    static int verifyHelpers(int processors) {
        return Math.max(0, Math.min(3, processors - 1));
    }

    private ExecutorService newVerifyPool(int n) {
        AtomicInteger count = new AtomicInteger();
        return Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "rtb-worker-verify-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(30_000);
            if (t.isAlive()) log.warn("thread {} did not stop within 30 s", t.getName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
