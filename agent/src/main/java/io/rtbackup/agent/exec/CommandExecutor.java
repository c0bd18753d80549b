package io.rtbackup.agent.exec;

import io.rtbackup.agent.trust.Trust;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.topics.AgentGroup;
import io.rtbackup.topics.CommandPartitions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes the {@link SyncCommand}s addressed to this host: reads the one partition of the commands topic that
 * the host's key maps to, validates each command, runs rsync with bounded concurrency per destination, and
 * publishes a {@link SyncResult} (keyed by {@code replyTo}) for every command it decoded — also when rsync fails,
 * times out or the command is rejected. Records of other hosts that share the partition are skipped; undecodable
 * records are logged, counted and skipped.
 *
 * <p>Where reading starts: from the position committed for the group {@code rtb-agent-<host>}, and from the end
 * of the partition the very first time. A command is committed once its result is published (lowest unfinished
 * offset, so concurrent destinations never skip one another's commands). Resuming from the committed position
 * means commands sent while the agent was down are executed right away instead of waiting for the worker's
 * missing-result retry, and a crash only re-runs commands, which is harmless: replication is state-based.
 * Starting from the end would be sound too (the worker retries), but slower to recover. A command that its worker
 * has followed with one issued more than {@code exec.command-max-age-s} later is answered FAILED without running
 * rsync ({@link CommandExpiry}, no clock of this host involved): after a long outage the worker has long since
 * retried it under a new id, so re-running each of them would only repeat work.
 *
 * <p>Which commands run at all: {@link CommandGate} (signed by a worker whose key is in the keyring; a command read
 * again is answered with its remembered result). Results are published and signed by {@link ResultPublisher}.
 *
 * <p>Which partition, and the move to another one when the commands topic grows with the fleet:
 * {@link OwnCommandPartition}.
 *
 * <p>This class polls, dispatches and commits; running and answering a command is {@link CommandAnswers}'s job, the
 * per-destination concurrency {@link DestinationPools}'. What it is made of: {@link ExecutorParts}.
 *
 * <p>An unexpected error in the poll loop is handed to the {@link FatalErrorHandler}: an agent whose executor
 * stopped would keep capturing while no command ever ran again, so the process ends and is restarted instead.
 */
public final class CommandExecutor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CommandExecutor.class);

    static final int MAX_IN_FLIGHT = 1000;
    /** Results kept to answer a command read again (a duplicate or a replay) without running it again. */
    static final int ANSWERS_REMEMBERED = 4096;
    private static final Duration POLL = Duration.ofMillis(200);
    /**
     * How long the broker holds a fetch of an idle partition ({@code fetch.max.wait.ms}). A command that arrives
     * completes the waiting fetch at once, so this costs no latency; it only sets how often an idle agent's consumer
     * is answered "nothing new" (Kafka's 500 ms: two round trips a second, each a fetch response parsed and its
     * metrics recorded, on every host of a fleet). A move to another partition of the commands topic may wait for
     * the fetch in flight, once.
     */
    static final int IDLE_FETCH_WAIT_MS = 5_000;
    /**
     * At most one commit per this interval while commands keep finishing. Each commit is a round trip to the group
     * coordinator (request, response, metrics), and one per command made 10 a second at 10 commands a second. The
     * position only decides what runs again after a crash (a clean stop commits everything): at most this much
     * more, which is harmless, as replication is state-based.
     */
    static final Duration COMMIT_EVERY = Duration.ofSeconds(1);
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    private final String hostId;
    private final byte[] hostKey;
    private final String commandsTopic;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final boolean closesProducer;
    private final Replicator replicator;
    private final ExecMetrics metrics;
    private final FatalErrorHandler fatal;
    private final Clock clock;
    private final OwnCommandPartition own;
    private final AvroCodec<SyncCommand> commandCodec = AvroCodec.syncCommands();
    private final CommandGate gate;
    private final CommandExpiry expiry;
    private final CommandAnswers answers;
    private final DestinationPools pools;
    private final Trust trust;
    /** Offsets of decoded commands whose result is not published yet. */
    private final ConcurrentSkipListSet<Long> pending = new ConcurrentSkipListSet<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Thread thread;

    // poll-thread state
    private TopicPartition partition;
    private long lastSeen = -1;
    private long committed = -1;
    private long committedAtMs = Long.MIN_VALUE;
    private boolean paused;

    /** Takes ownership of the parts' consumer and replicator, and of its producer when it says so. */
    public CommandExecutor(ExecutorParts parts) {
        this.hostId = parts.hostId();
        this.hostKey = hostId.getBytes(StandardCharsets.UTF_8);
        this.commandsTopic = parts.topics().commands();
        this.consumer = parts.consumer();
        this.producer = parts.producer();
        this.closesProducer = parts.closesProducer();
        this.replicator = parts.replicator();
        this.metrics = new ExecMetrics(parts.registry());
        this.fatal = parts.fatal();
        this.clock = parts.clock();
        this.own = new OwnCommandPartition(hostId, commandsTopic, consumer, parts.clock());
        this.trust = parts.trust();
        this.gate = new CommandGate(trust.verifier(), ANSWERS_REMEMBERED);
        this.expiry = new CommandExpiry(parts.config().commandMaxAge());
        ResultPublisher results = new ResultPublisher(hostId, parts.topics().results(), producer, trust.signer(),
            metrics, parts.clock(), (id, record) -> gate.answered(id, record[0], record[1]), fatal);
        this.answers = new CommandAnswers(parts, expiry, metrics, results, () -> running, this::done);
        this.pools = new DestinationPools(parts.config().destinations().values());
    }

    /** Consumer settings the executor relies on (to merge over connection settings). */
    public static Map<String, Object> consumerProperties(String hostId) {
        return Map.of(
            ConsumerConfig.GROUP_ID_CONFIG, groupId(hostId),
            ConsumerConfig.CLIENT_ID_CONFIG, "rtb-agent-exec-" + hostId,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200,
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, IDLE_FETCH_WAIT_MS,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    }

    /** Settings of a results producer of its own (tests; the agent publishes through its shared producer). */
    public static Map<String, Object> producerProperties(String hostId) {
        return Map.of(
            ProducerConfig.CLIENT_ID_CONFIG, "rtb-agent-results-" + hostId,
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.LINGER_MS_CONFIG, 1,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    }

    public static String groupId(String hostId) {
        return AgentGroup.of(hostId);
    }

    /** The partition of {@code hostId}'s commands (see {@link CommandPartitions#of}). */
    public static int partitionFor(String hostId, int partitions) {
        return CommandPartitions.of(hostId, partitions);
    }

    /** Runs the poll loop on a thread of its own. */
    public CommandExecutor start() {
        // an Error escaping run() would otherwise end the executor silently
        Thread t = new Thread(fatal.guard("command executor of host " + hostId, this::run), "rtb-agent-exec-" + hostId);
        thread = t;
        t.start();
        return this;
    }

    /** True once the partition is assigned and positioned: commands sent from now on will be seen. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The poll loop; returns after {@link #close()}. */
    public void run() {
        try {
            partition = assignOwnPartition();
            if (partition == null || !positionAtStart()) return;
            ready.countDown();
            while (running) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                } catch (KafkaException e) {
                    log.warn("host {}: polling {} failed, retrying in 1 s: {}", hostId, partition, e.toString());
                    sleep(Duration.ofSeconds(1));
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> rec : records) handle(rec);
                commitProgress();
                backpressure();
                followPartitionCount();
            }
        } catch (WakeupException e) {
            // close() during start-up
        } catch (RuntimeException e) {
            // No command would run again while capture goes on: end the process so that it is restarted (the
            // commands not finished stay uncommitted and run again then).
            fatal.fatal("command executor of host " + hostId, e);
        } finally {
            shutdown();
            stopped.countDown();
        }
    }

    private TopicPartition assignOwnPartition() {
        while (running) {
            try {
                Optional<TopicPartition> tp = own.assign();
                if (tp.isPresent()) return tp.get();
                log.warn("host {}: commands topic '{}' does not exist yet; create it (rtb topics / "
                    + "TopicProvisioner) - retrying", hostId, commandsTopic);
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                log.warn("host {}: cannot read metadata of '{}', retrying: {}", hostId, commandsTopic, e.toString());
            }
            sleep(Duration.ofSeconds(1));
        }
        return null;
    }

    /** Seeks to where this host's group left off; retries while Kafka is unreachable; false once closed. */
    private boolean positionAtStart() {
        while (running) {
            try {
                seekToStart();
                return true;
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                log.warn("host {}: cannot read the committed position of group {} on {}, retrying: {}", hostId,
                    groupId(hostId), partition, e.toString());
                sleep(Duration.ofSeconds(1));
            }
        }
        return false;
    }

    private void seekToStart() {
        committed = own.positionAtStart();
        lastSeen = committed - 1;
    }

    /** Moves with the topic when it grows (see {@link OwnCommandPartition#follow}). */
    private void followPartitionCount() {
        OptionalLong moved = own.follow(pending.size(), lastSeen + 1);
        if (moved.isEmpty()) return;
        partition = own.current();
        paused = false;
        committed = moved.getAsLong();
        lastSeen = committed - 1;
    }

    private void handle(ConsumerRecord<byte[], byte[]> rec) {
        long offset = rec.offset();
        lastSeen = offset;
        if (!Arrays.equals(rec.key(), hostKey)) return; // another host whose key maps to the same partition
        SyncCommand cmd;
        try {
            cmd = commandCodec.decode(rec.value());
        } catch (UndecodableRecordException e) {
            metrics.undecodable();
            // Nothing is lost here: no result answers it, so the worker's missing-result retry reissues the work.
            log.warn("host {}: undecodable command at {} offset {} not run; the worker reissues it when no result "
                + "arrives: {}", hostId, partition, offset, e.getMessage());
            return;
        }
        pending.add(offset);
        String dest = cmd.getDestination();
        if (!pools.has(dest) || !hostId.equals(cmd.getHostId())) {
            // Rejected without touching the file system: wrong host or unknown destination.
            answers.misdirected(cmd, offset);
            return;
        }
        CommandGate.Admission admission = gate.admit(rec, cmd);
        if (admission instanceof CommandGate.Admission.Refuse r) {
            trust.rejected().accept(r.reason());
            // FAILED, never REJECTED: a worker never gives a FAILED command up, so a refusal cannot commit anything.
            log.warn("command {} host={} root={} destination={} at {} offset {}: not run, not authenticated ({}): {}",
                cmd.getCommandId(), hostId, cmd.getRootId(), dest, partition, offset, r.reason().label(), r.detail());
            answers.answer(cmd, dest, SyncOutcome.FAILED, Optional.of("command not authenticated ("
                + r.reason().label() + "): " + r.detail() + "; is the worker's public key in this agent's "
                + "signing.keyring?"), offset);
            return;
        }
        if (admission instanceof CommandGate.Admission.Repeat again) {
            answers.again(cmd, again.key(), again.value(), offset);
            return;
        }
        expiry.saw(cmd, partition, offset);
        TopicPartition readFrom = partition;
        pools.execute(dest, () -> answers.run(cmd, readFrom, offset));
    }

    /** The result of the command at {@code offset} is out of our hands: it no longer holds the commit back. */
    private void done(long offset, boolean handed) {
        // Not taken by the producer while stopping: left pending, so the final commit stays before it and the
        // command is read and answered again after the restart.
        if (handed || running) pending.remove(offset);
    }

    /**
     * Commits up to the lowest command whose result is not yet published (or past everything seen), at most once per
     * {@link #COMMIT_EVERY}; progress held back by that is committed by a later round of the poll loop.
     */
    private void commitProgress() {
        long next = pending.isEmpty() ? lastSeen + 1 : pending.first();
        if (next <= committed) return;
        long now = clock.millis();
        long since = now - committedAtMs;
        // the clock stepped back (since < 0): commit now rather than wait for it to come back
        if (committedAtMs != Long.MIN_VALUE && since >= 0 && since < COMMIT_EVERY.toMillis()) return;
        committedAtMs = now;
        final long target = next;
        consumer.commitAsync(Map.of(partition, new OffsetAndMetadata(target)), (offsets, ex) -> {
            if (ex != null) log.debug("host {}: commit of offset {} failed (retried with the next): {}", hostId, target,
                ex.toString());
        });
        committed = target;
    }

    private void backpressure() {
        int n = pending.size();
        metrics.inFlight(n);
        if (!paused && n >= MAX_IN_FLIGHT) {
            consumer.pause(List.of(partition));
            paused = true;
            log.info("host {}: {} commands in flight, pausing {}", hostId, n, partition);
        } else if (paused && n < MAX_IN_FLIGHT / 2) {
            consumer.resume(List.of(partition));
            paused = false;
        }
    }

    private void shutdown() {
        // Whatever still runs after the grace period is killed; its FAILED result is published and the worker retries.
        pools.shutdown(SHUTDOWN_GRACE, replicator);
        try {
            producer.flush();
            if (partition != null) {
                long next = pending.isEmpty() ? lastSeen + 1 : pending.first();
                if (next >= 0) {
                    consumer.commitSync(Map.of(partition, new OffsetAndMetadata(next)), Duration.ofSeconds(10));
                }
            }
        } catch (RuntimeException e) {
            log.warn("host {}: final commit failed; some commands will run again after the restart: {}", hostId,
                e.toString());
        }
        closeQuietly(consumer);
        if (closesProducer) closeQuietly(producer);
        log.info("host {}: command executor stopped", hostId);
    }

    /** Stops polling, lets running commands finish for a grace period, then kills rsync; idempotent. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        Thread t = thread;
        if (t == null) {
            // never started
            if (stopped.getCount() > 0) {
                shutdown();
                stopped.countDown();
            }
            return;
        }
        try {
            if (!stopped.await(SHUTDOWN_GRACE.toSeconds() + 30, TimeUnit.SECONDS)) {
                log.warn("host {}: command executor did not stop in time", hostId);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("close failed", e);
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            // An interrupted poll thread is being stopped.
            running = false;
            Thread.currentThread().interrupt();
        }
    }
}
