package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Anti-entropy on a real fleet (broker, worker, agent with fanotify, two rsync daemons): a replica changed on the
 * destination by hand, which no capture sees, is repaired by the agent's reconciliation; the run counts the
 * differences, the agent's metrics show them, {@code rtb status} shows the reconciliation per (host, root,
 * destination), and the worker goes on serving commands (it ignores results it did not ask for). Everything the
 * agent published (events, results, root states, the reconciliation) went through its one Kafka producer.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ReconcileEndToEndTest {

    @Test
    void aReplicaChangedByHandIsRepairedCountedInTheMetricsAndShownByStatus(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            ByteFs.write(join(fleet.source, utf8("a")), utf8("alpha"));
            ByteFs.write(join(fleet.source, utf8("b")), utf8("bravo"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            byte[] replica = fleet.replica(fleet.d1);
            ByteFs.write(join(replica, utf8("a")), utf8("changed on the destination by hand"));
            ByteFs.write(join(replica, utf8("stray")), utf8("not on the source"));
            assertThat(fleet.diff(fleet.d1).isEqual()).isFalse();

            List<Reconciliation> runs = fleet.agent.reconcileNow();

            assertThat(runs).extracting(Reconciliation::destination, Reconciliation::outcome,
                    Reconciliation::differences)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("d1", SyncOutcome.OK, 2L),
                    org.assertj.core.groups.Tuple.tuple("d2", SyncOutcome.OK, 0L));
            assertThat(fleet.diff(fleet.d1).isEqual()).as(fleet.diff(fleet.d1).describe()).isTrue();
            assertThat(counter(fleet, "rtb_agent_reconcile_differences", "d1")).isEqualTo(2.0);
            assertThat(counter(fleet, "rtb_agent_reconcile_differences", "d2")).isZero();
            assertThat(gauge(fleet, "rtb_agent_reconcile_last_success_seconds", "d1")).isPositive();

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                StatusEndToEndTest.Run r = StatusEndToEndTest.status(fleet, "--json");
                JsonNode d1 = root(r.destination("d1"));
                JsonNode d2 = root(r.destination("d2"));
                assertThat(d1.get("lastReconcile").isNull()).as(r.toString()).isFalse();
                assertThat(d1.get("lastReconcile").get("differences").asLong()).isEqualTo(2);
                assertThat(d1.get("lastReconcile").get("outcome").asText()).isEqualTo("OK");
                assertThat(d2.get("lastReconcile").get("differences").asLong()).isZero();
            });
            StatusEndToEndTest.Run text = StatusEndToEndTest.status(fleet);
            assertThat(text.out()).contains("last reconciliation").contains("2 difference(s) found and repaired")
                .contains("in sync");

            // the worker took no reconciliation for an answer: new changes keep flowing to both destinations
            ByteFs.write(join(fleet.source, utf8("after")), utf8("after the reconciliation"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            // events, command results, root states and this reconciliation all went through one producer
            assertThat(agentProducerThreads()).containsExactly("kafka-producer-network-thread | rtb-agent-"
                + Fleet.HOST);
        }
    }

    /** The agent's Kafka producers, by their sender threads (named after the client id, rtb-agent-...). */
    static List<String> agentProducerThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
            .filter(n -> n.startsWith("kafka-producer-network-thread | rtb-agent-") && n.endsWith(Fleet.HOST))
            .sorted().toList();
    }

    private static JsonNode root(JsonNode destination) {
        for (JsonNode r : destination.get("roots")) {
            if (r.get("host").asText().equals(Fleet.HOST) && r.get("root").asText().equals(Fleet.ROOT)) return r;
        }
        throw new AssertionError("no root " + Fleet.HOST + ":" + Fleet.ROOT + " in " + destination);
    }

    private static Labels labels(String destination) {
        return Labels.of("destination", destination, "root", Fleet.ROOT);
    }

    private static double counter(Fleet fleet, String name, String destination) {
        for (MetricSnapshot s : fleet.registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (CounterSnapshot.CounterDataPointSnapshot d : ((CounterSnapshot) s).getDataPoints()) {
                if (d.getLabels().equals(labels(destination))) return d.getValue();
            }
        }
        throw new AssertionError("no " + name + " for " + destination);
    }

    private static double gauge(Fleet fleet, String name, String destination) {
        for (MetricSnapshot s : fleet.registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (GaugeSnapshot.GaugeDataPointSnapshot d : ((GaugeSnapshot) s).getDataPoints()) {
                if (d.getLabels().equals(labels(destination))) return d.getValue();
            }
        }
        throw new AssertionError("no " + name + " for " + destination);
    }
}
