package io.rtbackup.agent.transport;

import static io.rtbackup.agent.capture.CaptureScenario.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.CapturePipeline;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker (a real Kafka in a child JVM) is stopped while files change and started again on the same ports:
 * every path changed meanwhile must be covered by its own event or by a RESCAN of its root published after
 * the loss.
 */
class PublisherBrokerDownTest {

    private static final AvroCodec<FileEvent> CODEC = AvroCodec.fileEvents();

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @AfterEach
    void noPartGaveUp() {
        fatal.assertNone();
    }

    @Test
    void changesWhileTheBrokerIsDownAreCoveredAfterItReturns(@TempDir Path brokerDir) throws Exception {
        BrokerSettings settings = BrokerSettings.onFreePorts(brokerDir);
        KafkaBroker broker = ChildJvmKafkaBroker.start(settings);
        Topics topics = Topics.withPrefix("down-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        try (TempDirs tmp = TempDirs.create("rtb-down")) {
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            byte[] root = tmp.newDir("root");
            Properties p = new Properties();
            p.setProperty("host.id", "host-down");
            p.setProperty("root.r1.path", new String(root, StandardCharsets.US_ASCII));
            p.setProperty("capture.source", "inotify");
            p.setProperty("capture.startup-rescan", "false");
            p.setProperty("publish.buffer-events", "64");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            p.setProperty("kafka.max.block.ms", "1000");
            p.setProperty("kafka.request.timeout.ms", "1500");
            p.setProperty("kafka.delivery.timeout.ms", "3000");
            p.setProperty("kafka.reconnect.backoff.max.ms", "500");
            CaptureConfig config = CaptureConfig.fromProperties(p);
            PrometheusRegistry registry = new PrometheusRegistry();
            try (CapturePipeline pipeline = CapturePipeline.create(config, topics, null, registry, fatal)) {
                pipeline.start();
                ByteFs.write(BytePaths.join(root, b("before")), b("x"));
                try (KafkaConsumer<byte[], byte[]> c = consumer(broker, topics)) {
                    readUntil(c, got -> got.stream().anyMatch(e -> path(e).equals("before")), Duration.ofSeconds(30));
                }

                broker.close();
                long downAtNs = nowNs();
                Set<String> changedWhileDown = new HashSet<>();
                ByteFs.mkdir(BytePaths.join(root, b("down")));
                changedWhileDown.add("down");
                for (int i = 0; i < 500; i++) {
                    ByteFs.write(BytePaths.join(root, b("down/f" + i)), b("while the broker is away"));
                    changedWhileDown.add("down/f" + i);
                }
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!pipeline.publisher().rootsAwaitingRescan().contains("r1")) {
                    assertThat(System.nanoTime()).as("root r1 marked as having lost events").isLessThan(deadline);
                    Thread.sleep(20);
                }
                Thread.sleep(4_000); // longer than delivery.timeout.ms: the producer gives up on what it held

                broker = ChildJvmKafkaBroker.start(settings);
                assertThat(pipeline.publisher().awaitIdle(Duration.ofSeconds(60))).as("caught up").isTrue();
                assertThat(pipeline.publisher().rootsAwaitingRescan()).isEmpty();
                ByteFs.write(BytePaths.join(root, b("after")), b("x"));
                List<FileEvent> got;
                try (KafkaConsumer<byte[], byte[]> c = consumer(broker, topics)) {
                    got = readUntil(c, all -> all.stream().anyMatch(e -> path(e).equals("after"))
                            && all.stream().anyMatch(e -> e.getOp() == FileOp.RESCAN), Duration.ofSeconds(60));
                }
                List<FileEvent> rescans = got.stream().filter(e -> e.getOp() == FileOp.RESCAN).toList();
                assertThat(rescans).allMatch(e -> e.getRootId().equals("r1") && path(e).isEmpty());
                assertThat(rescans).as("a RESCAN captured after the loss began")
                        .anyMatch(e -> e.getEventTimeNs() > downAtNs);
                Set<String> published = new HashSet<>();
                for (FileEvent e : got) published.add(path(e));
                Set<String> uncovered = new HashSet<>(changedWhileDown);
                uncovered.removeAll(published);
                // whatever has no event of its own is covered by the RESCAN of r1
                assertThat(uncovered).as("some events really were lost (the test is not vacuous)").isNotEmpty();
            }
        } finally {
            broker.close();
        }
    }

    @Test
    void anAgentStartedBeforeItsBrokerKeepsCapturingAndCatchesUp(@TempDir Path brokerDir) throws Exception {
        BrokerSettings settings = BrokerSettings.onFreePorts(brokerDir); // nothing listens there yet
        Topics topics = Topics.withPrefix("late-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        KafkaBroker broker = null;
        try (TempDirs tmp = TempDirs.create("rtb-late")) {
            byte[] root = tmp.newDir("root");
            Properties p = new Properties();
            p.setProperty("host.id", "host-late");
            p.setProperty("root.r1.path", new String(root, StandardCharsets.US_ASCII));
            p.setProperty("capture.source", "fanotify");
            p.setProperty("capture.startup-rescan", "false");
            p.setProperty("publish.buffer-events", "50");
            p.setProperty("kafka.bootstrap.servers", settings.bootstrapServers());
            p.setProperty("kafka.max.block.ms", "500");
            p.setProperty("kafka.reconnect.backoff.max.ms", "300");
            PrometheusRegistry registry = new PrometheusRegistry();
            try (CapturePipeline pipeline = CapturePipeline.create(CaptureConfig.fromProperties(p), topics, null,
                    registry, fatal)) {
                pipeline.start();
                // each file is two events (create, close-write): 40 fit the buffer of 50
                for (int i = 0; i < 20; i++) ByteFs.write(BytePaths.join(root, b("early" + i)), b("x"));
                Thread.sleep(1_500);
                assertThat(pipeline.publisher().rootsAwaitingRescan()).as("20 files fit the buffer").isEmpty();
                for (int i = 0; i < 300; i++) ByteFs.write(BytePaths.join(root, b("flood" + i)), b("x"));
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!pipeline.publisher().rootsAwaitingRescan().contains("r1")) {
                    assertThat(System.nanoTime()).as("root r1 marked as having lost events").isLessThan(deadline);
                    Thread.sleep(20);
                }

                broker = ChildJvmKafkaBroker.start(settings);
                TopicProvisioner.ensure(broker.bootstrapServers(), topics);
                List<FileEvent> got;
                try (KafkaConsumer<byte[], byte[]> c = consumer(broker, topics)) {
                    got = readUntil(c, all -> all.stream().anyMatch(e -> e.getOp() == FileOp.RESCAN)
                            && all.stream().filter(e -> path(e).startsWith("early")).map(PublisherBrokerDownTest::path)
                            .distinct().count() == 20, Duration.ofSeconds(60));
                }
                // the first 20 waited in the buffer and were published themselves; the flood is covered by the RESCAN
                assertThat(got.stream().filter(e -> e.getOp() == FileOp.RESCAN)).allMatch(e -> path(e).isEmpty());
                assertThat(pipeline.publisher().awaitIdle(Duration.ofSeconds(20))).isTrue();
                assertThat(pipeline.publisher().rootsAwaitingRescan()).isEmpty();
            }
        } finally {
            if (broker != null) broker.close();
        }
    }

    static long nowNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    static String path(FileEvent e) {
        ByteBuffer bb = e.getPath().duplicate();
        byte[] out = new byte[bb.remaining()];
        bb.get(out);
        return new String(out, StandardCharsets.UTF_8);
    }

    static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker, Topics topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        // Every partition from its start, without a group: nothing depends on when a rebalance completes.
        List<org.apache.kafka.common.TopicPartition> parts = c.partitionsFor(topics.events()).stream()
                .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
        return c;
    }

    static List<FileEvent> readUntil(KafkaConsumer<byte[], byte[]> c, java.util.function.Predicate<List<FileEvent>> done,
            Duration timeout) {
        List<FileEvent> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(got)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not seen within " + timeout + "; got " + got.size() + " events: "
                        + got.stream().map(e -> e.getOp() + " " + path(e)).toList() + "; end offsets "
                        + c.endOffsets(c.assignment()) + ", positions " + c.assignment().stream()
                        .map(tp -> tp.partition() + "@" + c.position(tp)).toList());
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) got.add(CODEC.decode(r.value()));
        }
        return got;
    }

    static boolean same(byte[] a, byte[] b) {
        return Arrays.equals(a, b);
    }
}
