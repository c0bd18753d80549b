package io.rtbackup.worker.testing;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The other half of the system, reduced to its protocol: reads every SyncCommand on the commands topic and answers
 * on the results topic as its policy says (or not at all, then the test answers by hand with {@link #respond}).
 * It runs no rsync; the worker is tested as one unit against a real broker. One per host, with a filter, stands for
 * a fleet; {@link #suspend()} stands for a SIGSTOPped agent (it reads and answers nothing until {@link #resume()}).
 */
public final class TestAgent implements AutoCloseable {
    private final Topics topics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
    private final AvroCodec<SyncResult> results = AvroCodec.syncResults();
    private final BlockingQueue<SyncCommand> unanswered = new LinkedBlockingQueue<>();
    private final List<SyncCommand> received = new ArrayList<>();
    private final List<SyncResult> sent = new ArrayList<>();
    private final Thread thread;
    private final Predicate<SyncCommand> mine;
    private volatile Function<SyncCommand, Optional<SyncResult>> policy;
    private volatile boolean running = true;
    private volatile boolean suspended;

    public TestAgent(String bootstrap, Topics topics, Function<SyncCommand, Optional<SyncResult>> policy) {
        this(bootstrap, topics, c -> true, policy);
    }

    /** An agent that sees only the commands {@code mine} accepts (say, those of its host) and skips the others. */
    public TestAgent(String bootstrap, Topics topics, Predicate<SyncCommand> mine,
                     Function<SyncCommand, Optional<SyncResult>> policy) {
        this.topics = topics;
        this.mine = mine;
        this.policy = policy;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer = new KafkaConsumer<>(c);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer = new KafkaProducer<>(p);
        List<TopicPartition> parts = consumer.partitionsFor(topics.commands()).stream()
            .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts); // the topics are this test's own
        thread = new Thread(this::loop, "test-agent");
        thread.setDaemon(true);
        thread.start();
    }

    /** Answer everything with OK. */
    public static Optional<SyncResult> allOk(SyncCommand c) {
        return Optional.of(result(c, SyncOutcome.OK, null));
    }

    /** Answer nothing; the test calls {@link #respond}. */
    public static Optional<SyncResult> manual(SyncCommand c) {
        return Optional.empty();
    }

    public void policy(Function<SyncCommand, Optional<SyncResult>> p) {
        policy = p;
    }

    public static SyncResult result(SyncCommand c, SyncOutcome outcome, String error) {
        long now = System.currentTimeMillis();
        return SyncResult.newBuilder()
            .setCommandId(c.getCommandId())
            .setHostId(c.getHostId())
            .setRootId(c.getRootId())
            .setDestination(c.getDestination())
            .setReplyTo(c.getReplyTo())
            .setOutcome(outcome)
            .setExitCode(switch (outcome) {
                case OK -> 0;
                case PARTIAL -> 23;
                case FAILED -> 10;
                case REJECTED -> -1;
            })
            .setFilesTransferred(c.getPaths().size())
            .setBytesSent(1000L * c.getPaths().size())
            .setLiteralBytes(0)
            .setDurationMs(5)
            .setFinishedAtMs(now)
            .setError(error)
            .build();
    }

    private void loop() {
        while (running) {
            if (suspended) {
                sleep(20);
                continue;
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(20))) {
                SyncCommand c = commands.decode(r.value());
                if (!mine.test(c)) continue;
                synchronized (this) {
                    received.add(c);
                }
                Optional<SyncResult> answer = policy.apply(c);
                if (answer.isPresent()) send(answer.get());
                else unanswered.add(c);
            }
        }
    }

    /** Like SIGSTOP: from now on nothing is read or answered; commands wait on the topic. */
    public void suspend() {
        suspended = true;
    }

    /** Like SIGCONT: reads on where it stopped. */
    public void resume() {
        suspended = false;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends a result for a command the policy left unanswered. */
    public void respond(SyncCommand c, SyncOutcome outcome, String error) {
        send(result(c, outcome, error));
    }

    private void send(SyncResult r) {
        synchronized (this) {
            sent.add(r);
        }
        // keyed by replyTo as the agent's executor does: the worker reads only that key's partition (ResultPartitions)
        producer.send(new ProducerRecord<>(topics.results(), r.getReplyTo().getBytes(StandardCharsets.UTF_8),
            results.encode(r)));
        producer.flush();
    }

    /** Next command the policy left unanswered, waiting up to the timeout. */
    public SyncCommand nextUnanswered(Duration timeout) throws InterruptedException {
        SyncCommand c = unanswered.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (c == null) throw new AssertionError("no command within " + timeout);
        return c;
    }

    public boolean hasUnanswered() {
        return !unanswered.isEmpty();
    }

    public synchronized List<SyncCommand> received() {
        return List.copyOf(received);
    }

    public synchronized List<SyncResult> sent() {
        return List.copyOf(sent);
    }

    /** Paths (as UTF-8 text) listed in commands that were answered OK. */
    public synchronized List<String> okPaths() {
        Map<String, SyncCommand> byId = new java.util.HashMap<>();
        for (SyncCommand c : received) byId.put(c.getCommandId(), c);
        List<String> out = new ArrayList<>();
        for (SyncResult r : sent) {
            if (r.getOutcome() != SyncOutcome.OK) continue;
            SyncCommand c = byId.get(r.getCommandId());
            if (c == null) continue;
            if (c.getFullSync()) out.add(c.getHostId() + ":" + c.getRootId() + ":<full>");
            c.getPaths().forEach(b -> out.add(c.getHostId() + ":" + c.getRootId() + ":" + Events.text(b)));
        }
        return out;
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close();
        producer.close();
    }
}
