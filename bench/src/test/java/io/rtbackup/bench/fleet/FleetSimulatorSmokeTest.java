package io.rtbackup.bench.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.CommandPartitions;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet simulator in CI size: 50 hosts against a real worker (in this JVM) on the real broker for a few
 * seconds. Every path a host changed gets an OK result, and every command travels in the partition its host's agent
 * reads. The full run (1,000 hosts, worker JVMs, two workers, rebalances) is {@code bench/run fleet}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class FleetSimulatorSmokeTest {
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @TempDir
    Path work;

    @AfterEach
    void noComponentGaveUp() {
        fatal.assertNone();
    }

    @Test
    void fiftyHostsConvergeAgainstARealWorker(KafkaBroker broker) throws Exception {
        FleetOptions o = new FleetOptions(50, 200, 20, 1.0, 20, 0.05, 2, 3, false, false, true, 16, 10_000, null);
        FleetResult r = new FleetSimulator(o, broker.bootstrapServers(), work, fatal).run();

        assertThat(r.convergedMs()).as("every changed path got an OK result (%d left)", r.unsynced())
            .isGreaterThanOrEqualTo(0);
        assertThat(r.unsynced()).isZero();
        assertThat(r.misplacedCommands()).as("commands outside their host's partition").isZero();
        assertThat(r.misplacedResults()).as("results outside the partition their worker reads").isZero();
        ResultFanIn.Ratio results = r.resultFanIn().get(0);
        assertThat(results.workers()).isEqualTo(1);
        assertThat(results.ownPartition()).as("one worker reads its own results only").isEqualTo(1.0);
        FleetResult.Window w = r.windows().get(0);
        assertThat(w.processedPerSec()).as("events the worker finished per second").isPositive();
        assertThat(w.commandsPerSec()).isPositive();
        assertThat(w.roundTripP50()).isGreaterThanOrEqualTo(10); // at least the simulated rsync's 0.5 x 20 ms
        // the agent reads what its partition holds: its own commands and those of the hosts sharing it
        CommandFanIn.Ratio measured = r.fanIn().get(0);
        assertThat(measured.partitions()).isEqualTo(r.commandPartitions())
            .isGreaterThanOrEqualTo(CommandPartitions.forFleet(50, 6));
        assertThat(measured.meanRead()).isGreaterThanOrEqualTo(measured.meanAddressed());
        assertThat(FleetReport.run("smoke", r)).contains("Converged").contains("events per worker CPU-s");
    }
}
