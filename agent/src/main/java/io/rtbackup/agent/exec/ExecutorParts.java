package io.rtbackup.agent.exec;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.rsync.DpkgRsyncPackage;
import io.rtbackup.agent.rsync.RsyncVersion;
import io.rtbackup.agent.trust.Trust;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.topics.Topics;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Everything a {@link CommandExecutor} is made of, in one record instead of telescoping constructors: {@link #of}
 * gives the defaults of what tests rarely vary, a {@code with...} method changes one part, {@link #connect} is the
 * agent's wiring.
 *
 * @param consumer       reads the commands topic; configured as by {@link CommandExecutor#consumerProperties};
 *                       the executor closes it
 * @param producer       publishes the results (byte arrays, idempotent)
 * @param closesProducer whether the executor closes {@code producer} (false for the agent's shared producer)
 * @param validator      decides what a command may touch; must be for {@code hostId}
 * @param replicator     runs rsync; the executor closes it (killing runs still going after the grace period)
 * @param fatal          told when the poll loop fails unexpectedly (the loop stops right after)
 * @param sequence       the capture order of this agent run: each result says up to where capture had numbered
 *                       events when its rsync started, so workers can tell which events it carried
 * @param hold           which roots are paused: their commands are answered REJECTED without running rsync
 * @param trust          signs the results; its keyring decides which commands run ({@link CommandGate}); with none,
 *                       every decoded command of this host runs
 */
public record ExecutorParts(String hostId, Topics topics, ExecConfig config, Consumer<byte[], byte[]> consumer,
        Producer<byte[], byte[]> producer, boolean closesProducer, CommandValidator validator, Replicator replicator,
        PrometheusRegistry registry, Clock clock, FatalErrorHandler fatal, CaptureSequence sequence, RootHold hold,
        Trust trust) {

    public ExecutorParts {
        Objects.requireNonNull(hostId, "hostId");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(consumer, "consumer");
        Objects.requireNonNull(producer, "producer");
        Objects.requireNonNull(replicator, "replicator");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(fatal, "fatal");
        Objects.requireNonNull(sequence, "sequence");
        Objects.requireNonNull(hold, "hold");
        Objects.requireNonNull(trust, "trust");
        if (!hostId.equals(validator.hostId())) {
            throw new IllegalArgumentException("validator is for host '" + validator.hostId() + "', not '" + hostId
                + "'");
        }
    }

    /**
     * The parts with the system clock, no capture order, nothing held and no trust (every decoded command of this
     * host runs, results unsigned); the executor closes {@code producer}.
     */
    public static ExecutorParts of(String hostId, Topics topics, ExecConfig config, Consumer<byte[], byte[]> consumer,
            Producer<byte[], byte[]> producer, CommandValidator validator, Replicator replicator,
            PrometheusRegistry registry, FatalErrorHandler fatal) {
        return new ExecutorParts(hostId, topics, config, consumer, producer, true, validator, replicator, registry,
            Clock.systemUTC(), fatal, CaptureSequence.unknown(), RootHold.NONE, Trust.none());
    }

    /**
     * The agent's wiring: checks the rsync at {@code exec.rsync-path} (failing the start when it is unfit), a
     * consumer of its own from {@code kafka} (bootstrap.servers at least), a validator for {@code roots} and their
     * {@code excludes} (root id to {@code root.<id>.exclude}); results go through {@code producer}, which stays
     * its owner's to close.
     */
    public static ExecutorParts connect(String hostId, Topics topics, Map<String, Object> kafka,
            Map<String, byte[]> roots, Map<String, List<String>> excludes, ExecConfig config, RsyncRunner runner,
            Producer<byte[], byte[]> producer, PrometheusRegistry registry, FatalErrorHandler fatal) {
        RsyncVersion.check(config.rsyncPath(), config.allowUnpatchedRsync(), new DpkgRsyncPackage());
        CommandValidator validator = new CommandValidator(hostId, roots, excludes, config.destinations());
        Map<String, Object> c = new HashMap<>(kafka);
        c.putAll(CommandExecutor.consumerProperties(hostId));
        return new ExecutorParts(hostId, topics, config, new KafkaConsumer<>(c), producer, false, validator, runner,
            registry, Clock.systemUTC(), fatal, CaptureSequence.unknown(), RootHold.NONE, Trust.none());
    }

    public ExecutorParts withClock(Clock c) {
        return new ExecutorParts(hostId, topics, config, consumer, producer, closesProducer, validator, replicator,
            registry, c, fatal, sequence, hold, trust);
    }

    public ExecutorParts withSequence(CaptureSequence s) {
        return new ExecutorParts(hostId, topics, config, consumer, producer, closesProducer, validator, replicator,
            registry, clock, fatal, s, hold, trust);
    }

    public ExecutorParts withHold(RootHold h) {
        return new ExecutorParts(hostId, topics, config, consumer, producer, closesProducer, validator, replicator,
            registry, clock, fatal, sequence, h, trust);
    }

    public ExecutorParts withTrust(Trust t) {
        return new ExecutorParts(hostId, topics, config, consumer, producer, closesProducer, validator, replicator,
            registry, clock, fatal, sequence, hold, t);
    }
}
