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
    private static final Duration CUT = Duration.ofSeconds(30);

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
            ClusterFleet.Outcome outcome = fleet.finish(CONVERGE);
            printPerReplica(fleet, "leader-kill", fault);
            fleet.keepLogs("leader-kill");
            report(fleet, "leader-kill", "node " + leader + " SIGKILLed, restarted 20 s later",
                fleet.pause().pauseMillis(fault), outcome);
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
            // the scenario's pause is the longest of the three; a node after which nothing arrived makes it none
            OptionalLong worst = OptionalLong.of(0);
            List<String> each = new ArrayList<>();
            for (int i = 0; i < faults.size(); i++) {
                printPerReplica(fleet, "rolling-restart node " + (i + 1), faults.get(i));
                OptionalLong p = fleet.pause().pauseMillis(faults.get(i));
                each.add("node " + (i + 1) + ": " + (p.isPresent() ? seconds(p.getAsLong()) + " s" : "never"));
                worst = p.isEmpty() || worst.isEmpty() ? OptionalLong.empty()
                    : OptionalLong.of(Math.max(worst.getAsLong(), p.getAsLong()));
            }
            System.out.println("rolling restart, pause after each node's SIGTERM: " + String.join(", ", each));
            fleet.keepLogs("rolling-restart");
            report(fleet, "rolling-restart", "nodes 1, 2, 3 stopped with SIGTERM and restarted in turn", worst,
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
            Thread.sleep(CUT.toMillis());
            net.linkUp("k" + leader);
            cluster.awaitFullyReplicated(fleet.topicNames(), REPLICATED);
            Thread.sleep(3_000);
            ClusterFleet.Outcome outcome = fleet.finish(CONVERGE);
            printPerReplica(fleet, "partition", fault);
            fleet.keepLogs("partition");
            OptionalLong paused = fleet.pause().pauseMillis(fault);
            report(fleet, "partition", "node " + leader + " cut off for 30 s", paused, outcome);
            // the two nodes left took over: replication went on while the third was still cut off (it waited for
            // the heal while clients kept Kafka's 30 s request timeout)
            assertThat(paused).as("pause while a node is cut off").isPresent();
            assertThat(paused.getAsLong()).as("pause while a node is cut off, ms").isLessThan(CUT.toMillis());
        }
    }

    private static void assertCatalogReplication(ClusterFleet fleet) throws Exception {
        assertThat(fleet.replicationOfEveryTopic()).as("what topics.properties declares for a fleet")
            .allSatisfy((topic, replication) -> assertThat(replication).isEqualTo("rf=3 min.insync.replicas=2"));
    }

    /** Prints the scenario's line, then asserts that nothing was lost and no part gave up. */
    private static void report(ClusterFleet fleet, String scenario, String what, OptionalLong pauseMs,
                               ClusterFleet.Outcome o) {
        System.out.printf(Locale.ROOT, "%s: %s, under %d workload operations on %d hosts%n", scenario, what,
            fleet.operationsApplied(), ClusterFleet.HOSTS);
        System.out.printf(Locale.ROOT, "failover: %s paused_s=%s converged=%s lost=%d%n", scenario,
            pauseMs.isPresent() ? seconds(pauseMs.getAsLong()) : "-1", o.converged() ? "yes" : "no", o.lost());
        assertThat(o.converged()).as("%s: every replica equals its source; first difference: %s", scenario,
            o.firstDifference()).isTrue();
        assertThat(fleet.deadAgents()).as("agents that exited").isEmpty();
        fleet.fatal.assertNone();
    }

    /** Which destination waited how long for which host's heartbeat: where a long pause came from. */
    private static void printPerReplica(ClusterFleet fleet, String scenario, long faultNs) {
        List<String> each = new ArrayList<>();
        fleet.pause().pausePerReplica(faultNs).forEach((replica, p) -> each.add(
            replica.getParent().getParent().getFileName() + "/" + replica.getParent().getFileName() + " "
                + (p.isPresent() ? seconds(p.getAsLong()) + " s" : "never")));
        System.out.println(scenario + ", pause per destination/host: " + String.join(", ", each));
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.1f", ms / 1000.0);
    }
}
