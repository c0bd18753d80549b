package io.rtbackup.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.CapturePipelineKafkaTest.Got;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pausing a root takes it out of capture on the running pipeline, with the real kernel interfaces and a real broker:
 * a change in the paused root produces no event while the other root's changes still arrive; resuming watches it
 * again (here with the pipeline's fanotify and inotify sources, which are replaced by a new source on the new roots;
 * the kernel module narrows in place and runs in the qemu test).
 */
@ExtendWith(KafkaBrokerExtension.class)
class CapturePipelinePauseTest {
    private static final AvroCodec<FileEvent> CODEC = AvroCodec.fileEvents();
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @AfterEach
    void noPartGaveUp() {
        fatal.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"fanotify", "inotify"})
    void aPausedRootIsNotCapturedAndTheOtherRootIs(String source, KafkaBroker broker) throws Exception {
        Topics topics = Topics.withPrefix("pause-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(broker.bootstrapServers(), topics);
        try (TempDirs tmp = TempDirs.create("rtb-pause")) {
            byte[] r1 = tmp.newDir("r1");
            byte[] r2 = tmp.newDir("r2");
            Properties p = new Properties();
            p.setProperty("host.id", "host-p");
            p.setProperty("root.r1.path", new String(r1, StandardCharsets.US_ASCII));
            p.setProperty("root.r2.path", new String(r2, StandardCharsets.US_ASCII));
            p.setProperty("capture.source", source);
            p.setProperty("capture.startup-rescan", "false");
            p.setProperty("capture.merge-window-ms", "50");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            try (CapturePipeline pipeline = CapturePipeline.create(CaptureConfig.fromProperties(p), topics, null,
                    new PrometheusRegistry(), fatal);
                 KafkaConsumer<byte[], byte[]> consumer = CapturePipelineKafkaTest.consumer(broker, topics)) {
                pipeline.start();
                pipeline.pause(Set.of("r1"));
                ByteFs.write(BytePaths.join(r1, BytePaths.utf8("while-paused")), BytePaths.utf8("x"));
                ByteFs.write(BytePaths.join(r2, BytePaths.utf8("other-root")), BytePaths.utf8("y"));
                List<Got> got = CapturePipelineKafkaTest.readUntil(consumer,
                    g -> g.stream().anyMatch(e -> named(e, "other-root")), Duration.ofSeconds(30));
                // The other root's event arrived; a late event of the paused root would have had time to follow.
                Thread.sleep(2000);
                for (var r : consumer.poll(Duration.ofSeconds(1))) got.add(new Got(r, CODEC.decode(r.value())));
                assertThat(got).noneMatch(e -> e.event().getRootId().equals("r1"));
                assertThat(pipeline.source().name()).isEqualTo(source);

                pipeline.pause(Set.of());
                ByteFs.write(BytePaths.join(r1, BytePaths.utf8("after-resume")), BytePaths.utf8("z"));
                List<Got> after = CapturePipelineKafkaTest.readUntil(consumer,
                    g -> g.stream().anyMatch(e -> named(e, "after-resume")), Duration.ofSeconds(30));
                assertThat(after).filteredOn(e -> named(e, "after-resume"))
                    .allSatisfy(e -> assertThat(e.event().getRootId()).isEqualTo("r1"))
                    .anySatisfy(e -> assertThat(e.event().getOp()).isNotEqualTo(FileOp.RESCAN));
            }
        }
    }

    private static boolean named(Got g, String name) {
        return new String(g.path(), StandardCharsets.UTF_8).equals(name);
    }
}
