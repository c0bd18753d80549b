package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.status.StatusJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * {@code rtb status} against a real fleet: a stopped destination shows as lagging (and fails the threshold) while
 * the healthy one is at zero; once the destination is back, both are at zero and the exit code is 0 again.
 */
@ExtendWith(KafkaBrokerExtension.class)
class StatusEndToEndTest {
    static final int LAGGING = 1; // 3 would be "cannot read Kafka"

    record Run(int exit, String out, String err) {
        JsonNode json() {
            return StatusJson.parse(out);
        }

        JsonNode destination(String name) {
            for (JsonNode d : json().get("destinations")) if (d.get("name").asText().equals(name)) return d;
            throw new AssertionError("no destination " + name + " in " + out + err);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n" + out + err;
        }
    }

    /** {@code rtb status ARGS} in-process through picocli, as a shell would run it. */
    static Run status(Fleet fleet, String... args) {
        List<String> all = new ArrayList<>(List.of("status", "--bootstrap-servers", fleet.broker.bootstrapServers(),
            "--topic-prefix", fleet.topicPrefix));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Rtb()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
            .execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    /** Every record in the fleet's events topic, from the brokers' own offsets. */
    static long eventsInLog(Fleet fleet) throws Exception {
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
            long sum = 0;
            for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values()) sum += e.offset();
            for (var e : admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS).values()) sum -= e.offset();
            return sum;
        }
    }

    @Test
    void aStoppedDestinationLagsOverTheThresholdAndRecoversToZero(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            ByteFs.write(join(fleet.source, utf8("seed")), utf8("seed"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                Run r = status(fleet, "--json", "--max-lag-s", "1");
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(r.destination("d1").get("lagEvents").asLong()).as(r.toString()).isZero();
                assertThat(r.destination("d2").get("lagEvents").asLong()).as(r.toString()).isZero();
                assertThat(r.destination("d2").get("breakerState").asText()).isEqualTo("CLOSED");
            });

            // A destination no worker served yet has no committed offset: the worker would replay the whole log
            // for it (auto.offset.reset=none, then from the log start), so the whole log is its lag.
            Run unserved = status(fleet, "--json", "--destination", "d3", "--max-lag-events", "0");
            JsonNode d3 = unserved.destination("d3");
            assertThat(d3.get("committed").asBoolean()).isFalse();
            long inLog = eventsInLog(fleet);
            assertThat(inLog).as("the seed file's events").isPositive();
            assertThat(d3.get("lagEvents").asLong()).as(unserved.toString()).isEqualTo(inLog);
            assertThat(d3.get("breakerState").asText()).isEqualTo("UNKNOWN");
            assertThat(unserved.exit()).isEqualTo(LAGGING);
            assertThat(unserved.json().get("destinations")).hasSize(1);

            fleet.d2.stop();
            for (int i = 0; i < 20; i++) ByteFs.write(join(fleet.source, utf8("while-down-" + i)), utf8("v" + i));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));

            Run lagging = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(
                () -> status(fleet, "--json", "--max-lag-s", "2"),
                r -> r.exit() == LAGGING && r.destination("d1").get("lagEvents").asLong() == 0
                    && r.destination("d2").get("lagEvents").asLong() > 0);
            JsonNode d2 = lagging.destination("d2");
            assertThat(d2.get("lagSeconds").asDouble()).as(lagging.toString()).isGreaterThan(2.0);
            assertThat(lagging.err()).contains("LAGGING d2").doesNotContain("LAGGING d1");
            JsonNode root = d2.get("roots").get(0);
            assertThat(root.get("host").asText()).isEqualTo(Fleet.HOST);
            assertThat(root.get("root").asText()).isEqualTo(Fleet.ROOT);
            assertThat(root.get("lagEvents").asLong()).as(lagging.toString()).isPositive();
            // The worker reports what it knows only in memory: failed attempts and the destination's breaker.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                JsonNode d = status(fleet, "--json").destination("d2");
                assertThat(d.get("lastError").isNull()).as(d.toString()).isFalse();
                assertThat(d.get("workers")).as(d.toString()).hasSize(1);
                assertThat(d.get("syncsFailed").asLong()).as(d.toString()).isPositive();
            });
            // The threshold in events works the same way; a generous one passes.
            assertThat(status(fleet, "--max-lag-events", "0").exit()).isEqualTo(LAGGING);
            Run text = status(fleet, "--max-lag-events", "1000000", "--destination", "d2");
            System.out.println("rtb status while d2 is down:\n" + text.out());
            assertThat(text.exit()).as(text.toString()).isZero();
            assertThat(text.out()).contains("d2").contains(Fleet.HOST + ":" + Fleet.ROOT).doesNotContain("\nd1 ");

            fleet.d2.restart();
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                Run r = status(fleet, "--json", "--max-lag-s", "2");
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(r.destination("d1").get("lagEvents").asLong()).as(r.toString()).isZero();
                assertThat(r.destination("d2").get("lagEvents").asLong()).as(r.toString()).isZero();
                assertThat(r.destination("d2").get("lagSeconds").asDouble()).isZero();
            });
        }
    }
}
