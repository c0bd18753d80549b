package io.rtbackup.agent;

import static io.rtbackup.agent.capture.CaptureScenario.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.Posix;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** fanotify -> normaliser -> Kafka producer -> a real broker, read back with a consumer. */
@ExtendWith(KafkaBrokerExtension.class)
public class CapturePipelineKafkaTest {

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @AfterEach
    void noPartGaveUp() {
        fatal.assertNone();
    }

    private static final AvroCodec<FileEvent> CODEC = AvroCodec.fileEvents();

    public record Got(ConsumerRecord<byte[], byte[]> record, FileEvent event) {
        public byte[] path() {
            return bytes(event.getPath());
        }
    }

    static byte[] bytes(ByteBuffer bb) {
        byte[] out = new byte[bb.remaining()];
        bb.duplicate().get(out);
        return out;
    }

    @Test
    void capturedChangesArriveOnTheEventsTopic(KafkaBroker broker) throws Exception {
        Topics topics = Topics.withPrefix("cap-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        try (TempDirs tmp = TempDirs.create("rtb-pipe")) {
            byte[] root = tmp.newDir("root");
            Properties p = new Properties();
            p.setProperty("host.id", "host-a");
            p.setProperty("root.r1.path", new String(root, java.nio.charset.StandardCharsets.US_ASCII));
            p.setProperty("root.r1.exclude", "*.tmp, cache");
            p.setProperty("capture.source", "fanotify");
            p.setProperty("capture.merge-window-ms", "200");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            CaptureConfig config = CaptureConfig.fromProperties(p);
            PrometheusRegistry registry = new PrometheusRegistry();
            byte[] hostile = HostileNames.all().get(0);
            try (CapturePipeline pipeline = CapturePipeline.create(config, topics, null, registry, fatal);
                    KafkaConsumer<byte[], byte[]> consumer = consumer(broker, topics)) {
                pipeline.start();
                assertThat(pipeline.source().name()).isEqualTo("fanotify");

                ByteFs.write(BytePaths.join(root, hostile), b("hello"));
                ByteFs.write(BytePaths.join(root, b("scratch.tmp")), b("excluded"));
                ByteFs.mkdir(BytePaths.join(root, b("cache")));
                ByteFs.write(BytePaths.join(root, b("cache/inside")), b("excluded"));
                // 300 writes through one open file: one burst, merged
                byte[] burst = BytePaths.join(root, b("burst.log"));
                int fd = Posix.openat(Posix.AT_FDCWD, burst, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND, 0644);
                try {
                    for (int i = 0; i < 300; i++) Posix.write(fd, b("line\n"), 0, 5);
                } finally {
                    Posix.close(fd);
                }
                ByteFs.write(BytePaths.join(root, b("last")), b("end"));

                // Partitions are read in no particular order: wait for every record the assertions look for.
                List<Got> got = readUntil(consumer, gs -> gs.stream().anyMatch(g -> Arrays.equals(g.path(), b("last"))
                        && g.event().getOp() == FileOp.CLOSE_WRITE)
                        && gs.stream().anyMatch(g -> g.event().getOp() == FileOp.RESCAN && g.path().length == 0)
                        && gs.stream().anyMatch(g -> Arrays.equals(g.path(), hostile) && g.event().getOp() == FileOp.CREATE)
                        && gs.stream().anyMatch(g -> Arrays.equals(g.path(), b("burst.log"))
                                && g.event().getOp() == FileOp.CLOSE_WRITE), Duration.ofSeconds(30));

                assertThat(got).anyMatch(g -> g.event().getOp() == FileOp.RESCAN && g.path().length == 0);
                assertThat(got).anyMatch(g -> Arrays.equals(g.path(), hostile) && g.event().getOp() == FileOp.CREATE);
                assertThat(got).noneMatch(g -> new String(g.path()).endsWith(".tmp"));
                assertThat(got).noneMatch(g -> new String(g.path()).startsWith("cache"));
                long burstEvents = got.stream().filter(g -> Arrays.equals(g.path(), b("burst.log"))
                        && (g.event().getOp() == FileOp.MODIFY || g.event().getOp() == FileOp.CLOSE_WRITE)).count();
                assertThat(burstEvents).as("300 writes in one burst").isBetween(1L, 3L);

                for (Got g : got) {
                    FileEvent e = g.event();
                    assertThat(e.getHostId()).isEqualTo("host-a");
                    assertThat(e.getRootId()).isEqualTo("r1");
                    assertThat(e.getSource()).isEqualTo(io.rtbackup.schema.CaptureSource.FANOTIFY);
                    byte[] expectedKey = BytePaths.concat(b("host-a\0r1\0"), g.path());
                    assertThat(g.record().key()).isEqualTo(expectedKey);
                }
                // per-host sequence numbers: unique, and increasing within each partition
                assertThat(got.stream().map(g -> g.event().getSeq()).distinct().count()).isEqualTo(got.size());
                Map<Integer, Long> lastSeq = new HashMap<>();
                for (Got g : got) {
                    Long prev = lastSeq.put(g.record().partition(), g.event().getSeq());
                    if (prev != null) assertThat(g.event().getSeq()).isGreaterThan(prev);
                }
                assertThat(counter(registry, "rtb_agent_events_published", "fanotify"))
                        .isGreaterThanOrEqualTo(got.size() - 1);
                assertThat(counter(registry, "rtb_agent_events_excluded", "fanotify")).isGreaterThanOrEqualTo(3);
                // the kernel already folds most of the burst's modify events; the rest is merged here
                assertThat(counter(registry, "rtb_agent_events_captured", "fanotify"))
                        .isGreaterThanOrEqualTo(got.size() - 1);
            }
        }
    }

    static double counter(PrometheusRegistry registry, String name, String source) {
        for (MetricSnapshot s : registry.scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
                return c.getDataPoints().stream().filter(d -> source.equals(d.getLabels().get("source")))
                        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
            }
        }
        return 0;
    }

    public static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker, Topics topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "capture-test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        c.subscribe(List.of(topics.events()));
        return c;
    }

    public static List<Got> readUntil(KafkaConsumer<byte[], byte[]> consumer, Predicate<List<Got>> done, Duration timeout) {
        List<Got> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(got)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout + "; got " + got.size() + ": "
                        + got.stream().limit(50).map(g -> g.event().getOp() + " "
                        + BytePaths.show(g.path())).toList());
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                got.add(new Got(r, CODEC.decode(r.value())));
            }
        }
        return got;
    }
}
