package io.rtbackup.agent.control;

import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the control topic for this host. It reads without a consumer group (every agent reads every partition
 * from the start at each run: the topic is compacted and small, and no offset to commit means none to lose): first
 * up to the end as it was at start, keeping each root's latest accepted command, which it applies once caught up (so
 * a history of switches is not replayed switch by switch); then each new command as it arrives. Acceptance is
 * {@link ControlAcceptance}'s alone; applying is the {@link RootSwitch}'s, on this thread.
 *
 * <p>Kafka being unreachable only delays switching (the consumer retries; the stored pauses hold meanwhile). Any
 * other failure of the loop ends the process through {@code fatal}: an agent that no longer hears its switch would
 * go on capturing a root an operator paused.
 */
public final class ControlListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlListener.class);
    private static final Duration POLL = Duration.ofMillis(500);
    /** {@code fetch.max.wait.ms}: a record completes the broker's waiting fetch at once, so this costs no latency. */
    static final int IDLE_FETCH_WAIT_MS = 5_000;

    private final String hostId;
    private final String topic;
    private final Consumer<byte[], byte[]> consumer;
    private final ControlAcceptance acceptance;
    private final RootSwitch rootSwitch;
    private final FatalErrorHandler fatal;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private volatile boolean running = true;
    private Thread thread;

    /** Takes ownership of {@code consumer} (group-less, byte arrays) and closes it. */
    public ControlListener(String hostId, String topic, Consumer<byte[], byte[]> consumer,
            ControlAcceptance acceptance, RootSwitch rootSwitch, FatalErrorHandler fatal) {
        this.hostId = hostId;
        this.topic = topic;
        this.consumer = consumer;
        this.acceptance = acceptance;
        this.rootSwitch = rootSwitch;
        this.fatal = fatal;
    }

    /** A consumer of its own from the agent's Kafka settings. */
    public static ControlListener create(String hostId, Topics topics, Map<String, Object> kafka,
            ControlAcceptance acceptance, RootSwitch rootSwitch, FatalErrorHandler fatal) {
        Map<String, Object> c = new HashMap<>(kafka);
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "rtb-agent-control-" + hostId);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // a pause or resume completes the waiting fetch at once; an idle topic is asked again every 5 s, not 0.5 s
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, IDLE_FETCH_WAIT_MS);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new ControlListener(hostId, topics.control(), new KafkaConsumer<>(c), acceptance, rootSwitch, fatal);
    }

    public synchronized ControlListener start() {
        if (thread != null) throw new IllegalStateException("control listener already started");
        thread = new Thread(fatal.guard("control listener", this::run), "rtb-control-" + hostId);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /** Whether the commands that were on the topic at start have been applied, waiting up to {@code timeout}. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        try {
            List<TopicPartition> parts = partitions();
            if (parts == null) return;
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            Map<String, ControlCommand> latest = new LinkedHashMap<>();
            while (running && !reached(parts, end)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    acceptance.accept(r).ifPresent(c -> latest.put(c.getRootId(), c));
                }
            }
            latest.values().forEach(rootSwitch::apply);
            log.info("host {}: control topic {} read ({} command(s) for this host's roots)", hostId, topic,
                latest.size());
            caughtUp.countDown();
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    Optional<ControlCommand> c = acceptance.accept(r);
                    c.ifPresent(rootSwitch::apply);
                }
            }
        } catch (WakeupException e) {
            if (running) throw e;
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** The topic's partitions, waiting for the topic to exist; null when closed meanwhile. */
    private List<TopicPartition> partitions() throws WakeupException {
        while (running) {
            List<PartitionInfo> info = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (info != null && !info.isEmpty()) {
                return info.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            }
            log.warn("host {}: control topic {} not found yet; pauses stay as stored until it is", hostId, topic);
            try {
                Thread.sleep(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private boolean reached(List<TopicPartition> parts, Map<TopicPartition, Long> end) {
        for (TopicPartition tp : parts) if (consumer.position(tp) < end.get(tp)) return false;
        return true;
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        if (t == null) {
            consumer.close(Duration.ofSeconds(5));
            return;
        }
        consumer.wakeup();
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
