package io.rtbackup.bench.fleet;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.OffsetRange;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N simulated agents behind one Kafka producer and one consumer: each host publishes real {@link FileEvent}s (keyed
 * by {@link EventKey}, numbered by a per-host sequence in incarnation 1) and answers every {@link SyncCommand}
 * addressed to it the way an agent does — after a simulated rsync of {@code rsyncMs} (0.5x to 1.5x), with a
 * {@link SyncResult} keyed by {@code replyTo}, OK or, at {@code failureRate}, FAILED with rsync's exit 12, stamped
 * with the host's sequence when the "rsync" started.
 *
 * <p>It keeps what the report needs: per path the latest event sequence not yet covered by an OK result (so
 * {@link #unsynced()} is 0 once the fleet converged), the events OK results made durable, command delivery and
 * round-trip times, and what
 * {@link CommandFanIn} needs (every command record's partition, host and size) and {@link ResultFanIn} (every result
 * record's partition and worker).
 */
final class SimulatedAgents implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SimulatedAgents.class);
    static final String ROOT = "r";
    private static final long INCARNATION = 1;

    private final Topics topics;
    private final int rsyncMs;
    private final double failureRate;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroCodec<FileEvent> events = AvroCodec.fileEvents();
    private final AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
    private final AvroCodec<SyncResult> results = AvroCodec.syncResults();
    private final ScheduledExecutorService rsync = new ScheduledThreadPoolExecutor(2, r -> {
        Thread t = new Thread(r, "fleet-sim-rsync");
        t.setDaemon(true);
        return t;
    });
    private final Random random = new Random(7);
    private final Map<String, AtomicLong> seqByHost = new ConcurrentHashMap<>();
    /** host NUL path -> latest event seq not yet covered by an OK. */
    private final Map<String, Long> unsynced = new ConcurrentHashMap<>();
    private final CommandFanIn fanIn = new CommandFanIn();
    private final ResultFanIn resultFanIn = new ResultFanIn();
    private final LatencyLog delivery = new LatencyLog();
    private final LatencyLog roundTrip = new LatencyLog();
    private final AtomicLong eventsSent = new AtomicLong();
    private final AtomicLong commandsSeen = new AtomicLong();
    private final AtomicLong eventsSynced = new AtomicLong();
    private final AtomicLong lastCommandNs = new AtomicLong(System.nanoTime());
    private final AtomicLong longestGapNs = new AtomicLong();
    private volatile boolean running = true;
    private volatile long startedNs;
    private volatile Throwable failure;
    private Thread thread;

    SimulatedAgents(String bootstrap, Topics topics, int rsyncMs, double failureRate) {
        this.topics = topics;
        this.rsyncMs = rsyncMs;
        this.failureRate = failureRate;
        // settings as the agent's publisher and executor use them: idempotent, acks=all, lz4
        this.producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.CLIENT_ID_CONFIG, "fleet-sim-agents",
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
            ProducerConfig.LINGER_MS_CONFIG, 1,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
        this.consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.CLIENT_ID_CONFIG, "fleet-sim-commands",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    }

    /** Reads every commands partition from its end (call before any worker starts), on a thread of its own. */
    SimulatedAgents start() {
        List<TopicPartition> parts = consumer.partitionsFor(topics.commands(), Duration.ofSeconds(60)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        for (TopicPartition tp : parts) consumer.position(tp, Duration.ofSeconds(30));
        fanIn.partitions(parts.size());
        resultFanIn.partitions(producer.partitionsFor(topics.results()).size());
        startedNs = System.nanoTime();
        thread = new Thread(this::run, "fleet-sim-commands");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    double secondsSinceStart() {
        return (System.nanoTime() - startedNs) / 1e9;
    }

    int commandPartitions() {
        return fanIn.partitionCount();
    }

    /** Publishes a MODIFY of {@code path} on {@code host}. */
    void change(String host, String path) {
        long seq = seqByHost.computeIfAbsent(host, h -> new AtomicLong()).incrementAndGet();
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        FileEvent e = FileEvent.newBuilder()
            .setHostId(host).setRootId(ROOT).setPath(ByteBuffer.wrap(p)).setOp(FileOp.CLOSE_WRITE)
            .setSource(CaptureSource.UNKNOWN).setSeq(seq).setEventTimeNs(System.currentTimeMillis() * 1_000_000L)
            .setIncarnation(INCARNATION).build();
        unsynced.merge(host + '\0' + path, seq, Math::max);
        producer.send(new ProducerRecord<>(topics.events(), EventKey.of(host, ROOT, p), events.encode(e)), (md, ex) -> {
            if (ex != null) log.error("event of {}:{} not published: {}", host, path, ex.toString());
        });
        eventsSent.incrementAndGet();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) handle(rec);
            }
        } catch (WakeupException e) {
            // close()
        } catch (RuntimeException | Error e) {
            // no command would be answered any more: the run's figures would be wrong, so it must end
            failure = e;
            log.error("the simulated agents' command loop failed", e);
        }
    }

    /** Throws when the command loop has died (the simulator ends the run instead of measuring a dead fleet). */
    void checkAlive() {
        Throwable f = failure;
        if (f != null) throw new IllegalStateException("the simulated agents' command loop failed: " + f, f);
    }

    private void handle(ConsumerRecord<byte[], byte[]> rec) {
        long now = System.nanoTime();
        long gap = now - lastCommandNs.getAndSet(now);
        longestGapNs.accumulateAndGet(gap, Math::max);
        SyncCommand cmd = commands.decode(rec.value());
        String host = cmd.getHostId();
        fanIn.record(rec.partition(), host, rec.serializedValueSize() + rec.serializedKeySize());
        commandsSeen.incrementAndGet();
        delivery.add(System.currentTimeMillis() - cmd.getIssuedAtMs());
        // what an agent stamps before its rsync starts: everything numbered so far is in the replica after an OK
        long position = seqByHost.computeIfAbsent(host, h -> new AtomicLong()).get();
        int took;
        boolean ok;
        synchronized (random) {
            took = (int) (rsyncMs * (0.5 + random.nextDouble()));
            ok = random.nextDouble() >= failureRate;
        }
        long startedAtMs = System.currentTimeMillis();
        rsync.schedule(() -> answer(cmd, ok, position, startedAtMs, took), took, TimeUnit.MILLISECONDS);
    }

    private void answer(SyncCommand cmd, boolean ok, long position, long startedAtMs, int took) {
        SyncResult r = SyncResult.newBuilder()
            .setCommandId(cmd.getCommandId()).setHostId(cmd.getHostId()).setRootId(cmd.getRootId())
            .setDestination(cmd.getDestination()).setReplyTo(cmd.getReplyTo())
            .setOutcome(ok ? SyncOutcome.OK : SyncOutcome.FAILED).setExitCode(ok ? 0 : 12)
            .setFilesTransferred(ok ? cmd.getPaths().size() : 0).setDurationMs(took)
            .setFinishedAtMs(System.currentTimeMillis()).setStartedAtMs(startedAtMs)
            .setError(ok ? null : "simulated: connection unexpectedly closed (exit 12)")
            .setIncarnation(INCARNATION).setPublishedSeq(position).build();
        producer.send(new ProducerRecord<>(topics.results(), cmd.getReplyTo().getBytes(StandardCharsets.UTF_8),
            results.encode(r)), (md, ex) -> {
                if (ex != null) {
                    log.error("result of {} not published: {}", cmd.getCommandId(), ex.toString());
                    return;
                }
                roundTrip.add(System.currentTimeMillis() - cmd.getIssuedAtMs());
                resultFanIn.record(md.partition(), cmd.getReplyTo());
                if (ok) {
                    covered(cmd, position);
                    long n = 0;
                    for (OffsetRange range : cmd.getCovers()) n += range.getToOffset() - range.getFromOffset() + 1;
                    eventsSynced.addAndGet(n);
                }
            });
    }

    /** An OK covers each listed path (every path of the host for a full sync) up to {@code position}. */
    private void covered(SyncCommand cmd, long position) {
        String prefix = cmd.getHostId() + '\0';
        if (cmd.getFullSync()) {
            unsynced.entrySet().removeIf(e -> e.getKey().startsWith(prefix) && e.getValue() <= position);
            return;
        }
        for (ByteBuffer b : cmd.getPaths()) {
            byte[] p = new byte[b.remaining()];
            b.duplicate().get(p);
            unsynced.computeIfPresent(prefix + new String(p, StandardCharsets.UTF_8),
                (k, seq) -> seq <= position ? null : seq);
        }
    }

    /** Paths whose latest event no OK result covers yet. */
    int unsynced() {
        return unsynced.size();
    }

    long eventsSent() {
        return eventsSent.get();
    }

    /** Events the OK results made durable: the event offsets their commands cover (SyncCommand.covers). */
    long eventsSynced() {
        return eventsSynced.get();
    }

    long commandsSeen() {
        return commandsSeen.get();
    }

    LatencyLog delivery() {
        return delivery;
    }

    LatencyLog roundTrip() {
        return roundTrip;
    }

    CommandFanIn fanIn() {
        return fanIn;
    }

    ResultFanIn resultFanIn() {
        return resultFanIn;
    }

    /** The longest pause between two commands since the last call (reset by it). */
    long takeLongestGapMs() {
        lastCommandNs.set(System.nanoTime());
        return TimeUnit.NANOSECONDS.toMillis(longestGapNs.getAndSet(0));
    }

    void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        rsync.shutdownNow();
        producer.close(Duration.ofSeconds(10));
        consumer.close(Duration.ofSeconds(10));
    }
}
