package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.testkit.KafkaCluster;
import io.rtbackup.testkit.NetworkNamespaces;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20, item 1: a three-broker KRaft cluster ({@link KafkaCluster}, Kafka's own server in child JVMs) under a
 * multi-host workload ({@link ClusterFleet}: three agents, two workers, two rsync daemons), with the catalog's
 * replication factor 3 and min.insync.replicas 2. One broker fault per test; afterwards every replica equals its
 * source. Each prints {@code failover: <scenario> paused_s=N converged=yes|no lost=N}, where paused_s is the time
 * from the fault until a change written after it was on every destination ({@link ReplicationPause}).
 *
 * <p>The leader kill runs in {@code ./run-tests}; the rolling restart and the partition are tagged {@code long}
 * (several minutes each) and run with {@code mvn verify -Plong}.
 */
class ClusterFailoverTest {
    private static final Duration CONVERGE = Duration.ofSeconds(180);
    private static final Duration REPLICATED = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    @Test
    void theLeaderOfABusyPartitionKilledWithSigkillLosesNothing() throws Exception {
        try (KafkaCluster cluster = KafkaCluster.startOnLoopback(dir.resolve("cluster"));
             ClusterFleet fleet = new ClusterFleet(cluster, dir.resolve("fleet"))) {
            assertCatalogReplication(fleet);
            fleet.startWorkload(2001);
            Thread.sleep(5_000);
            int leader = fleet.leaderOfBusiestEventsPartition();
            long fault = System.nanoTime();
            cluster.kill(leader);
            Thread.sleep(20_000); // the pipeline runs on two brokers
            cluster.start(leader);
            cluster.awaitFullyReplicated(fleet.topicNames(), REPLICATED);
            Thread.sleep(3_000);
            report(fleet, "leader-kill", fleet.pause().pauseMillis(fault), fleet.finish(CONVERGE));
        }
    }

    @Test
    @Tag("long")
    void aRollingRestartThroughAllThreeBrokersLosesNothing() throws Exception {
        try (KafkaCluster cluster = KafkaCluster.startOnLoopback(dir.resolve("cluster"));
             ClusterFleet fleet = new ClusterFleet(cluster, dir.resolve("fleet"))) {
            assertCatalogReplication(fleet);
            fleet.startWorkload(2002);
            Thread.sleep(5_000);
            List<Long> faults = new ArrayList<>();
            for (int id = 1; id <= KafkaCluster.SIZE; id++) {
                faults.add(System.nanoTime());
                cluster.stop(id); // SIGTERM: a controlled shutdown, as an operator's restart does
                Thread.sleep(5_000);
                cluster.start(id);
                cluster.awaitFullyReplicated(fleet.topicNames(), REPLICATED);
                Thread.sleep(3_000);
            }
            ClusterFleet.Outcome outcome = fleet.finish(CONVERGE);
            OptionalLong worst = OptionalLong.empty();
            List<String> each = new ArrayList<>();
            for (int i = 0; i < faults.size(); i++) {
                OptionalLong p = fleet.pause().pauseMillis(faults.get(i));
                each.add("node " + (i + 1) + ": " + (p.isPresent() ? seconds(p.getAsLong()) + " s" : "never"));
                if (p.isEmpty() || worst.isPresent() && worst.getAsLong() < 0) worst = OptionalLong.of(-1);
                else if (worst.isEmpty() || p.getAsLong() > worst.getAsLong()) worst = p;
            }
            System.out.println("rolling restart, pause after each node's SIGTERM: " + String.join(", ", each));
            report(fleet, "rolling-restart", worst.isPresent() && worst.getAsLong() < 0 ? OptionalLong.empty() : worst,
                outcome);
        }
    }

    @Test
    @Tag("long")
    void aBrokerCutOffTheNetworkAndHealedLosesNothing() throws Exception {
        NetworkNamespaces.Creation made = NetworkNamespaces.create();
        Assumptions.assumeTrue(made.network().isPresent(), made.whyNot());
        try (NetworkNamespaces net = made.network().get();
             KafkaCluster cluster = KafkaCluster.startInNamespaces(dir.resolve("cluster"), net);
             ClusterFleet fleet = new ClusterFleet(cluster, dir.resolve("fleet"))) {
            assertCatalogReplication(fleet);
            fleet.startWorkload(2003);
            Thread.sleep(5_000);
            int leader = fleet.leaderOfBusiestEventsPartition();
            long fault = System.nanoTime();
            net.linkDown("k" + leader); // nothing reaches it, it reaches nothing: clients, the other two, the quorum
            Thread.sleep(30_000);
            net.linkUp("k" + leader);
            cluster.awaitFullyReplicated(fleet.topicNames(), REPLICATED);
            Thread.sleep(3_000);
            report(fleet, "partition", fleet.pause().pauseMillis(fault), fleet.finish(CONVERGE));
        }
    }

    private static void assertCatalogReplication(ClusterFleet fleet) throws Exception {
        assertThat(fleet.replicationOfEveryTopic()).as("what topics.properties declares for a fleet")
            .allSatisfy((topic, replication) -> assertThat(replication).isEqualTo("rf=3 min.insync.replicas=2"));
    }

    /** Prints the scenario's line, then asserts that nothing was lost and no part gave up. */
    private static void report(ClusterFleet fleet, String scenario, OptionalLong pauseMs, ClusterFleet.Outcome o) {
        System.out.printf(Locale.ROOT, "failover: %s paused_s=%s converged=%s lost=%d%n", scenario,
            pauseMs.isPresent() ? seconds(pauseMs.getAsLong()) : "-1", o.converged() ? "yes" : "no", o.lost());
        assertThat(o.converged()).as("%s: every replica equals its source; first difference: %s", scenario,
            o.firstDifference()).isTrue();
        assertThat(fleet.deadAgents()).as("agents that exited").isEmpty();
        fleet.fatal.assertNone();
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.1f", ms / 1000.0);
    }
}
