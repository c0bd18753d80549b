package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * rsync exit 23/24 with the whole fleet (real agent with fanotify, real worker, real broker, real rsync daemons):
 * a destination that cannot store a file fails as a destination (backoff, breaker, nothing committed) until it is
 * fixed; a source file the agent cannot read becomes a stuck path (in {@code rtb status} and the metrics, kept across
 * a worker restart) while the rest arrives, and arrives itself once readable; a file that vanishes under rsync is no
 * failure at all.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PartialTransfersEndToEndTest {

    @Test
    void aDestinationThatCannotStoreAFileIsRetriedAsTheDestinationsFailureAndNothingIsCommitted(KafkaBroker broker)
            throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            ByteFs.mkdir(join(fleet.source, utf8("locked")));
            ByteFs.write(join(fleet.source, utf8("locked"), utf8("old")), utf8("old"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            awaitNoLag(fleet, "d1");

            // An immutable directory on d1: its daemon (root) can create nothing in it, as with a read-only subtree.
            Path locked = Path.of(new String(join(fleet.replica(fleet.d1), utf8("locked")), StandardCharsets.UTF_8));
            chattr("+i", locked);
            try {
                ByteFs.write(join(fleet.source, utf8("locked"), utf8("new")), utf8("new"));
                // Counted as the destination's failures: its breaker opens (an agent's exit 23 used to count as a
                // success of the destination and went to the DLQ after a few seconds, its offsets committed).
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(gauge(fleet.registry, "rtb_worker_breaker_state", Labels.of("destination", "d1")))
                        .as("d1's breaker state (2: open)").isEqualTo(2.0));
                assertThat(counter(fleet.registry, "rtb_worker_command_results", "destination", "d1", "outcome",
                    "failed")).isGreaterThanOrEqualTo(1);
                assertThat(counter(fleet.registry, "rtb_worker_dlq_records", "destination", "d1")).isZero();
                assertThat(lag(fleet, "d1")).as("d1's uncommitted events").isPositive();
                fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            } finally {
                chattr("-i", locked);
            }
            // Fixed: the breaker's next probe gets through, and the change arrives.
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            awaitNoLag(fleet, "d1");
            assertThat(counter(fleet.registry, "rtb_worker_dlq_records", "destination", "d1")).isZero();
        }
    }

    @Test
    void anUnreadableSourceFileIsAStuckPathWhileTheRestArrivesAndArrivesOnceReadable(KafkaBroker broker)
            throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            // The tests run as root, who reads any file whatever its mode: the agent's rsync runs without the
            // capabilities that allow that (setpriv drops them and execs Debian's rsync, unchanged), as an agent
            // under its own user would. The wrapper is no distribution binary, hence allow-unpatched.
            fleet.agentOverrides.setProperty("rsync.path", wrapper(fleet, "exec setpriv "
                + "--inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search rsync \"$@\""));
            fleet.agentOverrides.setProperty("rsync.allow-unpatched", "true");
            fleet.workerOverrides.setProperty("retry.stuck-interval-ms", "2000");
            byte[] secret = join(fleet.source, utf8("secret \u00e9\nline"));
            ByteFs.write(join(fleet.source, utf8("ok1")), utf8("1"));
            ByteFs.write(secret, utf8("v1"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));

            ByteFs.write(secret, utf8("v2"));
            ByteFs.chmod(secret, 0);
            ByteFs.write(join(fleet.source, utf8("ok2")), utf8("2"));

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                StatusEndToEndTest.Run st = StatusEndToEndTest.status(fleet);
                assertThat(st.out()).contains("STUCK " + Fleet.HOST + ":" + Fleet.ROOT + " path secret \\xc3\\xa9\\x0aline")
                    .contains("Permission denied (13)");
            });
            assertThat(gauge(fleet.registry, "rtb_worker_stuck_paths",
                Labels.of("destination", "d1", "host", Fleet.HOST, "root", Fleet.ROOT))).isEqualTo(1.0);
            // Everything else arrived; the replica keeps the last copy it had of the stuck file.
            byte[] replica = fleet.replica(fleet.d1);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(ByteFs.lstat(join(replica, utf8("ok2")))).isPresent());
            assertThat(ByteFs.readAll(join(replica, utf8("ok2")))).isEqualTo(utf8("2"));
            assertThat(ByteFs.readAll(join(replica, utf8("secret \u00e9\nline")))).isEqualTo(utf8("v1"));
            assertThat(counter(fleet.registry, "rtb_worker_dlq_records", "destination", "d1")).isZero();
            assertThat(lag(fleet, "d1")).as("d1's uncommitted events (the stuck path's)").isPositive();
            JsonNode page = StatusEndToEndTest.status(fleet, "--json").destination("d1").get("stuckPaths");
            assertThat(page).hasSize(1);
            assertThat(page.get(0).get("reason").asText()).endsWith("Permission denied (13)");
            assertThat(page.get(0).get("sinceMs").asLong()).isPositive();

            // A worker restart does not lose it: its events were never committed, so the next worker finds it again.
            fleet.worker.close();
            fleet.worker = new Worker(WorkerConfig.fromProperties(fleet.workerProperties("w-restarted")),
                fleet.topics, broker.bootstrapServers(), new PrometheusRegistry(), r -> { }, fleet.fatal);
            fleet.worker.start();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                JsonNode stuck = StatusEndToEndTest.status(fleet, "--json").destination("d1").get("stuckPaths");
                assertThat(stuck).hasSize(1);
                assertThat(stuck.get(0).get("workerId").asText()).isEqualTo("w-restarted");
            });

            // Readable again: it arrives, and is no longer stuck.
            ByteFs.chmod(secret, 0644);
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(StatusEndToEndTest.status(fleet).out()).doesNotContain("STUCK"));
            awaitNoLag(fleet, "d1");
        }
    }

    @Test
    void aFileThatVanishesUnderRsyncIsNoFailureAndNoStuckPath(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            // Whoever deletes files on the host does it just as rsync starts: after the agent looked at the paths,
            // before rsync reads them (rsync: link_stat ... No such file or directory, exit 23).
            byte[] vanishing = join(fleet.source, utf8("vanishing"));
            fleet.agentOverrides.setProperty("rsync.path", wrapper(fleet, "rm -f '"
                + new String(vanishing, StandardCharsets.UTF_8) + "'\nexec rsync \"$@\""));
            fleet.agentOverrides.setProperty("rsync.allow-unpatched", "true");
            ByteFs.write(join(fleet.source, utf8("seed")), utf8("seed"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));

            ByteFs.write(join(fleet.source, utf8("stays")), utf8("s"));
            ByteFs.write(vanishing, utf8("v"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            awaitNoLag(fleet, "d1");
            // Which destination's rsync met the vanished file depends on which ran first: count both.
            assertThat(counter(fleet.registry, "rtb_worker_command_results", "outcome", "partial"))
                .as("partial results").isZero();
            assertThat(counter(fleet.registry, "rtb_worker_dlq_records")).isZero();
            assertThat(StatusEndToEndTest.status(fleet).out()).doesNotContain("STUCK");
        }
    }

    /** An executable script in the fleet's temp dir: {@code #!/bin/sh} and {@code body}. */
    private static String wrapper(Fleet fleet, String body) throws Exception {
        Path w = Path.of(fleet.tmp.pathString(), "rsync-wrapper-" + System.nanoTime());
        Files.writeString(w, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwx------"));
        return w.toString();
    }

    private static void chattr(String flag, Path p) throws Exception {
        Process proc = new ProcessBuilder("chattr", flag, p.toString()).inheritIO().start();
        assertThat(proc.waitFor()).as("chattr %s %s", flag, p).isZero();
    }

    private static void awaitNoLag(Fleet fleet, String destination) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
            assertThat(lag(fleet, destination)).as("%s's uncommitted events", destination).isZero());
    }

    /** Events of the fleet's events topic after the destination group's committed offsets (from the log start). */
    private static long lag(Fleet fleet, String destination) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            fleet.broker.bootstrapServers()))) {
            String topic = fleet.topics.events();
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                .partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
                earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
            }
            var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            var starts = admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                DestinationGroup.of(destination)).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            long lag = 0;
            for (TopicPartition tp : latest.keySet()) {
                OffsetAndMetadata c = committed.get(tp);
                long from = c == null ? starts.get(tp).offset() : c.offset();
                lag += Math.max(0, ends.get(tp).offset() - from);
            }
            return lag;
        }
    }

    /** Sum of a counter's data points whose labels include {@code labels} (name without {@code _total}). */
    private static double counter(PrometheusRegistry registry, String name, String... labels) {
        double sum = 0;
        for (MetricSnapshot s : registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (CounterSnapshot.CounterDataPointSnapshot d : ((CounterSnapshot) s).getDataPoints()) {
                if (has(d.getLabels(), labels)) sum += d.getValue();
            }
        }
        return sum;
    }

    private static boolean has(Labels have, String... want) {
        for (int i = 0; i < want.length; i += 2) {
            if (!want[i + 1].equals(have.get(want[i]))) return false;
        }
        return true;
    }

    private static double gauge(PrometheusRegistry registry, String name, Labels labels) {
        for (MetricSnapshot s : registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (GaugeSnapshot.GaugeDataPointSnapshot d : ((GaugeSnapshot) s).getDataPoints()) {
                if (d.getLabels().equals(labels)) return d.getValue();
            }
        }
        return Double.NaN;
    }
}
