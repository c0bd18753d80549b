package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.worker.SyncReport;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Things break mid-workload; every destination still ends equal to the source. */
@ExtendWith(KafkaBrokerExtension.class)
class FaultsEndToEndTest {

    @Test
    void aStoppedDestinationHoldsNothingBackAndCatchesUpWithOneEntryPerPath(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            ByteFs.write(join(fleet.source, utf8("seed")), utf8("seed"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            fleet.d2.stop();
            int before = fleet.d2.transfers().size();
            ByteFs.mkdir(join(fleet.source, utf8("while-down")));
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 40; i++) {
                    ByteFs.write(join(fleet.source, utf8("while-down"), utf8("f" + i)), utf8("round " + round + " of " + i));
                }
                Thread.sleep(300);
            }
            ByteFs.delete(join(fleet.source, utf8("seed")));
            // The healthy destination converges while the other is down.
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            assertThat(fleet.diff(fleet.d2).isEqual()).as("d2 is down, its replica cannot have caught up").isFalse();
            long d1Batches = fleet.reports.stream().filter(r -> r.destination().equals("d1")).count();
            System.out.printf("d1 batches while d2 down: %d, d1 latency ms: %s%n", d1Batches,
                fleet.reports.stream().filter(r -> r.destination().equals("d1")).map(SyncReport::latencyMs).toList());

            fleet.d2.restart();
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(90));
            // Its backlog waited in Kafka and was coalesced: each changed path crossed the wire at most once.
            List<RsyncDaemon.Transfer> after = fleet.d2.transfers().subList(before, fleet.d2.transfers().size());
            Map<String, Integer> perPath = new HashMap<>();
            for (RsyncDaemon.Transfer t : after) {
                if (t.path().length > 0 && BytePaths.show(t.path()).startsWith("e2e-host/data/while-down/f")) {
                    perPath.merge(BytePaths.show(t.path()), 1, Integer::sum);
                }
            }
            assertThat(perPath).hasSize(40);
            assertThat(perPath.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
        }
    }

    @Test
    void aWorkerKilledWithSigkillIsReplacedAndNothingIsLost(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.startAgent();
            Path config = Files.createTempFile("rtb-worker", ".properties");
            Properties p = fleet.workerProperties("killed-worker");
            p.setProperty("kafka.bootstrap.servers", broker.bootstrapServers());
            // The killed member holds its partitions until its session times out; keep that short here.
            p.setProperty("kafka.session.timeout.ms", "10000");
            try (FileOutputStream out = new FileOutputStream(config.toFile())) {
                p.store(out, null);
            }
            Process first = startWorkerProcess(config, fleet);
            ByteFs.mkdir(join(fleet.source, utf8("work")));
            for (int i = 0; i < 150; i++) {
                ByteFs.write(join(fleet.source, utf8("work"), utf8("file-" + i)), utf8("content " + i));
                if (i == 60) {
                    first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no commit, no goodbye
                }
                Thread.sleep(20);
            }
            Process second = startWorkerProcess(config, fleet);
            try {
                fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
                fleet.awaitConverged(fleet.d2, Duration.ofSeconds(120));
            } finally {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
                Files.deleteIfExists(config);
            }
        }
    }

    /** `rtb worker --config F` in its own JVM, exactly as an operator runs it. */
    private static Process startWorkerProcess(Path config, Fleet fleet) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String prefix = fleet.topics.events().substring(0, fleet.topics.events().length() - "rtb.events".length());
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp",
            System.getProperty("java.class.path"), Rtb.class.getName(), "worker", "--config", config.toString(),
            "--topic-prefix", prefix);
        pb.redirectErrorStream(true);
        pb.redirectOutput(new File(config + ".log"));
        return pb.start();
    }
}
