package io.rtbackup.cli;

import io.rtbackup.agent.Agent;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the three parts of {@code rtb up} in the order the state dir allows, and as much of it at once as it
 * allows. Contract: when {@link #start} returns, the broker is up, the topics exist, and the worker and the agent are
 * started; when it throws, whatever it started is being closed (in the background: the process ends with the
 * failure).
 *
 * <ul>
 *   <li>The broker starts on a thread of its own as soon as the command's options are checked ({@link #launch}), beside
 *   the command's remaining set-up. After a SIGKILL its start takes seconds: the
 *   controller starts, loads the metadata log and takes the dead incarnation's registration off before the broker
 *   registers ({@code EmbeddedKafkaBroker}); then the broker catches up and loads its logs. The agent is built at
 *   once and watches ({@link Agent#watch()}: capture needs no Kafka; what it captures waits in its publisher); the
 *   worker is built once the controller listens ({@link #awaitController}; their Kafka clients connect lazily).</li>
 *   <li>A state dir whose broker already holds every topic (each has its partition directory in the log dir: a
 *   restart) starts the worker and the agent at once as well: their clients connect as soon as the broker listens,
 *   the worker's results listener and the agent's command consumer are placed by then, and the agent's capture and
 *   start-up rescan run during the broker's wait instead of after it (what it publishes waits in the producer). The
 *   topics are still ensured once the broker is up (a setting may have changed).</li>
 *   <li>A fresh state dir starts the rest one step after the other: broker, topics, worker, the agent's services
 *   (its capture already watches); nothing can read a topic before it exists.</li>
 * </ul>
 */
final class UpStartup {
    private static final Logger log = LoggerFactory.getLogger(UpStartup.class);
    private static final String CONTROLLER_HOST = "127.0.0.1";

    /** The parts, built (not started) once the broker's address is known. */
    record Parts(Worker worker, Agent agent) {
    }

    /** The started parts and the broker they use. */
    record Started(EmbeddedKafkaBroker broker, Worker worker, Agent agent) {
    }

    /**
     * A broker start under way ({@link #launch}), handed to {@link #start} or, when the command fails before that,
     * {@link #abandon}ed. {@code restart}: the log dir held every topic before the broker started.
     */
    static final class Launch {
        private final BrokerSettings settings;
        private final Topics topics;
        private final boolean restart;
        private final CompletableFuture<EmbeddedKafkaBroker> broker;
        private final AtomicBoolean handedOver = new AtomicBoolean();

        private Launch(BrokerSettings settings, Topics topics, boolean restart,
                       CompletableFuture<EmbeddedKafkaBroker> broker) {
            this.settings = settings;
            this.topics = topics;
            this.restart = restart;
            this.broker = broker;
        }

        /**
         * Closes the broker once its start ended (not waited for: the process is ending with a failure); a no-op
         * once handed to {@link #start}, which closes what it started itself.
         */
        void abandon() {
            if (!handedOver.get()) closeBroker();
        }

        private void closeBroker() {
            broker.thenAccept(EmbeddedKafkaBroker::close);
        }
    }

    private UpStartup() {
    }

    /**
     * Begins the broker's start with {@code settings} on a thread of its own, as early as the command knows its
     * state dir: the caller's remaining set-up (its settings, keys and metrics endpoint: about 0.6 s of one core, most
     * of it class loading) then runs beside the broker's own set-up instead of before it.
     */
    static Launch launch(BrokerSettings settings, Topics topics) {
        boolean restart = holdsTopics(settings.logDir(), topics);
        return new Launch(settings, topics, restart, async("rtb-up-broker", () -> EmbeddedKafkaBroker.start(settings)));
    }

    /**
     * Builds the parts while the launched broker starts, and starts them. The agent ({@code buildAgent}) is built
     * first and watches at once, whatever the state dir: its capture needs no Kafka, and what it captures before the
     * broker, the topics and its command consumer are there waits in its publisher ({@link Agent#watch()}). The
     * worker ({@code buildWorker}) is built once the controller listens.
     *
     * @param watching told, on the calling thread, once the agent watches (before the broker may be up)
     * @throws Exception the first failure (the broker's start, a part's start), after closing what was started
     */
    static Started start(Launch launch, Supplier<Agent> buildAgent, Supplier<Worker> buildWorker,
                         Consumer<Agent> watching) throws Exception {
        if (!launch.handedOver.compareAndSet(false, true)) throw new IllegalStateException("launch handed over twice");
        BrokerSettings settings = launch.settings;
        Topics topics = launch.topics;
        boolean restart = launch.restart;
        CompletableFuture<EmbeddedKafkaBroker> broker = launch.broker;
        Parts parts;
        Agent built = null;
        try {
            // The agent first, while the broker starts: its capture needs no Kafka, so it watches now rather than
            // once the controller listens (about a second later on 2 loaded cores, measured). The worker is built
            // after the controller listens, as before (building both first delayed the controller).
            built = buildAgent.get();
            built.watch();
            watching.accept(built);
            awaitController(settings, broker);
            // a broker that could not start (its log dir in use by a running rtb up, say): nothing else starts
            if (broker.isCompletedExceptionally()) join(broker);
            parts = new Parts(buildWorker.get(), built);
        } catch (Exception | Error e) {
            if (built != null) built.close();
            launch.closeBroker();
            throw e;
        }
        try {
            if (restart) {
                log.info("restart on a known state dir: worker and agent start while the broker starts");
                CompletableFuture<Void> worker = async("rtb-up-worker-start", () -> {
                    parts.worker().start();
                    return null;
                });
                CompletableFuture<Void> agent = async("rtb-up-agent-start", () -> {
                    parts.agent().start();
                    return null;
                });
                EmbeddedKafkaBroker b = join(broker);
                TopicProvisioner.ensure(b.bootstrapServers(), topics);
                join(worker);
                join(agent);
                return new Started(b, parts.worker(), parts.agent());
            }
            EmbeddedKafkaBroker b = join(broker);
            TopicProvisioner.ensure(b.bootstrapServers(), topics);
            parts.worker().start();
            parts.agent().start();
            return new Started(b, parts.worker(), parts.agent());
        } catch (Exception | Error e) {
            // Not waited for: a part still starting (the worker waits up to a minute for the results topic) would
            // hold the failure back, and the process ends with it anyway.
            async("rtb-up-stop-after-failure", () -> {
                parts.agent().close();
                parts.worker().close();
                return null;
            });
            launch.closeBroker();
            throw e;
        }
    }

    /**
     * Waits until the controller listens (or the broker's start ended, or a minute passed). Building and starting
     * the parts before that only takes CPU from the broker's own start (measured on 2 loaded cores: the controller
     * came up a second later); after it, the broker mostly waits (for the controller to become active, see the class
     * comment), and the parts' class loading and start fill that wait.
     */
    private static void awaitController(BrokerSettings settings, CompletableFuture<?> broker)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!broker.isDone() && System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                // the controller listens on loopback whatever the broker's listen host (BrokerSettings)
                s.connect(new InetSocketAddress(CONTROLLER_HOST, settings.controllerPort()), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(50); // not listening yet
            }
        }
    }

    /** Whether the broker in {@code logDir} holds a partition of every topic of {@code topics}. */
    static boolean holdsTopics(Path logDir, Topics topics) {
        for (String t : List.of(topics.events(), topics.commands(), topics.results(), topics.dlq(), topics.status(),
                topics.control(), topics.rootState())) {
            if (!Files.isDirectory(logDir.resolve(t + "-0"))) return false;
        }
        return true;
    }

    private interface Step<T> {
        T run() throws Exception;
    }

    private static <T> CompletableFuture<T> async(String name, Step<T> step) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(step.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** The step's result, or its own exception (not wrapped). */
    private static <T> T join(CompletableFuture<T> f) throws Exception {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            if (e.getCause() instanceof Error x) throw x;
            throw e;
        }
    }
}
