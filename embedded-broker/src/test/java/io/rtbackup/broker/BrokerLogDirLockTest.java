package io.rtbackup.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second broker started on the log dir of a running one is refused before its controller touches the live
 * metadata log ({@link LogDirLock}): it neither elects itself on that log (the quorum state stays as the running
 * controller wrote it) nor takes the running broker's registration off as a dead incarnation's
 * ({@link PreviousIncarnation}); the running broker goes on serving.
 */
class BrokerLogDirLockTest {

    @Test
    void aSecondBrokerOnALiveBrokersLogDirIsRefusedBeforeItsControllerStarts(@TempDir Path dir) throws Exception {
        try (ChildJvmKafkaBroker live = ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(dir))) {
            Path quorumState = dir.resolve("__cluster_metadata-0").resolve("quorum-state");
            byte[] before = Files.readAllBytes(quorumState);

            assertThatThrownBy(() -> EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(dir)).close())
                .isInstanceOf(BrokerStartException.class)
                .hasMessageContaining("in use by another running broker")
                .hasMessageContaining(dir.resolve(LogDirLock.FILE_NAME).toString());

            assertThat(Files.readAllBytes(quorumState)).as("the running controller's quorum state").isEqualTo(before);
            try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", live.bootstrapServers()))) {
                admin.createTopics(Set.of(new NewTopic("still-serving", 1, (short) 1))).all().get();
                assertThat(admin.listTopics().names().get()).contains("still-serving");
            }
        }
    }
}
