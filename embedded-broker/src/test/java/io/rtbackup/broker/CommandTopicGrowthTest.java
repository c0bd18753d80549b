package io.rtbackup.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.topics.AgentGroup;
import io.rtbackup.topics.CommandPartitions;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.topics.ResultPartitions;
import io.rtbackup.topics.TopicCatalog;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioner sizes the commands topic to the agents the cluster knows, and the results topic to the workers in
 * the destinations' groups, on a real broker.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CommandTopicGrowthTest {
    @TempDir
    Path tmp;

    @Test
    void theCommandsTopicGrowsWhenTheFleetOutgrowsIt(KafkaBroker broker) throws Exception {
        // the shipped catalog with a floor of 1 commands partition, so that a few dozen agents outgrow it
        Properties p = new Properties();
        try (InputStream in = TopicCatalog.class.getResourceAsStream("/rtb/topics.properties")) {
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        }
        p.setProperty("commands.partitions", "1");
        Path file = tmp.resolve("topics.properties");
        try (var w = Files.newBufferedWriter(file)) {
            p.store(w, null);
        }
        TopicCatalog catalog = TopicCatalog.load(file);
        String run = UUID.randomUUID().toString().substring(0, 8);
        Topics topics = catalog.topics("grow-" + run + ".");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            new TopicProvisioner(admin, catalog).ensure(topics);
            int before = partitions(admin, topics.commands());
            long agents = agentGroups(admin);
            assertThat(before).isEqualTo(CommandPartitions.forFleet(agents, 1));

            // more agents than the topic holds at 32 per partition: each commits its position, as an agent does
            TopicPartition tp = new TopicPartition(topics.commands(), 0);
            for (int i = 0; i <= CommandPartitions.HOSTS_PER_PARTITION * before; i++) {
                admin.alterConsumerGroupOffsets(AgentGroup.of("grow-" + run + "-" + i), Map.of(tp, new OffsetAndMetadata(0)))
                    .all().get(30, TimeUnit.SECONDS);
            }
            long grownFleet = agentGroups(admin);
            new TopicProvisioner(admin, catalog).ensure(topics);
            int after = partitions(admin, topics.commands());
            assertThat(after).isEqualTo(CommandPartitions.forFleet(grownFleet, 1)).isGreaterThanOrEqualTo(2 * before);
            assertThat((double) grownFleet / after).isLessThanOrEqualTo(CommandPartitions.HOSTS_PER_PARTITION);
            // the other topics keep what the catalog says
            assertThat(partitions(admin, topics.events())).isEqualTo(catalog.spec("events").partitions());
        }
    }

    @Test
    void theResultsTopicGrowsWhenMoreWorkersThanPartitionsServeDestinations(KafkaBroker broker) throws Exception {
        TopicCatalog catalog = catalogWith("results.partitions", "1");
        String run = UUID.randomUUID().toString().substring(0, 8);
        Topics topics = catalog.topics("rgrow-" + run + ".");
        List<KafkaConsumer<byte[], byte[]>> workers = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            new TopicProvisioner(admin, catalog).ensure(topics);
            assertThat(partitions(admin, topics.results())).isGreaterThanOrEqualTo(1);
            // three workers in a destination's group, as static members named as a Worker names itself
            String destination = "nas-" + run;
            for (int i = 1; i <= 3; i++) {
                KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, DestinationGroup.of(destination),
                    ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, DestinationGroup.member("w-" + i, destination),
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
                workers.add(c);
                c.subscribe(List.of(topics.events()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (members(admin, DestinationGroup.of(destination)) < 3 && System.nanoTime() < deadline) {
                for (KafkaConsumer<byte[], byte[]> c : workers) c.poll(Duration.ofMillis(100));
            }
            assertThat(members(admin, DestinationGroup.of(destination))).isEqualTo(3);

            new TopicProvisioner(admin, catalog).ensure(topics);
            // (at least: static members of other runs' destinations on this broker count too until they expire)
            assertThat(partitions(admin, topics.results())).isGreaterThanOrEqualTo(ResultPartitions.forWorkers(3, 1));
        } finally {
            for (KafkaConsumer<byte[], byte[]> c : workers) c.close(Duration.ofSeconds(5));
        }
    }

    private static int members(Admin admin, String group) throws Exception {
        try {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members()
                .size();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) return 0; // nobody joined yet
            throw e;
        }
    }

    private TopicCatalog catalogWith(String key, String value) throws Exception {
        Properties p = new Properties();
        try (InputStream in = TopicCatalog.class.getResourceAsStream("/rtb/topics.properties")) {
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        }
        p.setProperty(key, value);
        Path file = tmp.resolve("topics-" + key + ".properties");
        try (var w = Files.newBufferedWriter(file)) {
            p.store(w, null);
        }
        return TopicCatalog.load(file);
    }

    private static int partitions(Admin admin, String topic) throws Exception {
        return admin.describeTopics(java.util.List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
            .partitions().size();
    }

    private static long agentGroups(Admin admin) throws Exception {
        return admin.listGroups().all().get(30, TimeUnit.SECONDS).stream()
            .filter(g -> AgentGroup.isAgentGroup(g.groupId())).count();
    }
}
