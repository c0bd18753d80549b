package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.testkit.RsyncDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What "watching" promises (issue 18: start-up reports watching before the Kafka clients and the metrics endpoint
 * exist): a change made the moment {@link Agent#watch()} returns, before the rest of the agent is built, is
 * captured and replicated. The start-up rescan is off, so nothing but capture can bring the file over.
 */
@ExtendWith(KafkaBrokerExtension.class)
class WatchFirstEndToEndTest {

    @Test
    void aChangeMadeTheMomentTheAgentWatchesIsReplicated(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.agentOverrides.setProperty("capture.startup-rescan", "false");
            fleet.startWorker();
            fleet.agent = Agent.create(AgentConfig.from(fleet.agentProperties(), fleet.agentEnv()), fleet.topics,
                fleet.registry, fleet.fatal);
            fleet.agent.watch();
            ByteFs.write(join(fleet.source, utf8("made-right-after-watching.txt")), utf8("captured, not rescanned"));
            fleet.agent.start();
            for (RsyncDaemon d : new RsyncDaemon[] {fleet.d1, fleet.d2}) {
                Path copy = Path.of(new String(join(fleet.replica(d), utf8("made-right-after-watching.txt")),
                    java.nio.charset.StandardCharsets.UTF_8));
                await("the file on " + d.url("backup")).atMost(Duration.ofSeconds(60)).until(() -> Files.exists(copy));
                assertThat(Files.readString(copy)).isEqualTo("captured, not rescanned");
            }
        }
    }
}
