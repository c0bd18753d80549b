package io.rtbackup.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.ResultPartitions;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the real broker: a worker reads only the partition of the results topic its id maps to, where agents put the
 * results addressed to it (keyed by {@code replyTo}, Kafka's default partitioner, as every agent writes them), so
 * the results of other workers cost it nothing; and it follows the topic when it grows.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ResultListenerPartitionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String DESTINATION = "d";

    private final List<SyncResult> delivered = new CopyOnWriteArrayList<>();
    private final AvroCodec<SyncResult> codec = AvroCodec.syncResults();
    private String bootstrap;
    private Topics topics;
    private KafkaProducer<byte[], byte[]> agents;
    private WorkerMetrics metrics;
    private ResultListener listener;
    private Thread thread;

    @BeforeEach
    void setUp(KafkaBroker broker) {
        bootstrap = broker.bootstrapServers();
        topics = Topics.withPrefix("r" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicProvisioner.ensure(bootstrap, topics);
        // as an agent's result producer: the default partitioner on the key replyTo
        agents = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.METADATA_MAX_AGE_CONFIG, 200,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
        metrics = new WorkerMetrics(new PrometheusRegistry());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (listener != null) listener.stop();
        if (thread != null) thread.join(10_000);
        agents.close(Duration.ofSeconds(5));
        metrics.close();
    }

    private void listen(String workerId, Duration growthCheck, Duration keepOld) throws InterruptedException {
        listener = new ResultListener(bootstrap, topics, workerId, Map.of(DESTINATION, delivered::add),
            Map.of("metadata.max.age.ms", String.valueOf(growthCheck.toMillis())), metrics,
            io.rtbackup.worker.signing.RecordAuthenticity.none(), growthCheck, keepOld);
        thread = new Thread(listener, "test-results-" + workerId);
        thread.setDaemon(true);
        thread.start();
        assertThat(listener.awaitPositioned(WAIT)).isTrue();
    }

    @Test
    void aWorkerReadsOnlyThePartitionOfTheResultsAddressedToIt() throws Exception {
        String me = "w-me";
        listen(me, OwnResultPartitions.CHECK_EVERY, OwnResultPartitions.KEEP_OLD);
        int partitions = agents.partitionsFor(topics.results()).size();
        int mine = ResultPartitions.of(me, partitions);
        // 60 other workers' results, 10 each, then 5 of this worker's: what its partition holds is all it reads
        long inMyPartition = 0;
        for (int w = 0; w < 60; w++) {
            for (int i = 0; i < 10; i++) {
                if (send("other-" + w, null) == mine) inMyPartition++;
            }
        }
        for (int i = 0; i < 5; i++) assertThat(send(me, null)).as("agents key by replyTo").isEqualTo(mine);
        inMyPartition += 5;

        await().atMost(WAIT).until(() -> delivered.size() == 5);
        assertThat(delivered).allMatch(r -> r.getReplyTo().equals(me));
        // everything before this worker's last result in its partition has been read by now
        assertThat((long) metrics.resultsRead.get()).as("records read of 605 on the topic, %d in its partition",
            inMyPartition).isEqualTo(inMyPartition).isLessThan(605 / 2);
    }

    @Test
    void aWorkerFollowsTheTopicWhenItGrowsAndLetsItsOldPartitionGoLater() throws Exception {
        // an id whose partition changes when the catalog's 6 partitions double
        String me = null;
        for (int i = 0; me == null; i++) {
            String id = "w-" + i;
            if (ResultPartitions.of(id, 12) != ResultPartitions.of(id, 6)) me = id;
        }
        int old = ResultPartitions.of(me, 6);
        int moved = ResultPartitions.of(me, 12);
        listen(me, Duration.ofMillis(200), Duration.ofSeconds(3));
        send(me, old);
        await().atMost(WAIT).until(() -> delivered.size() == 1);

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createPartitions(Map.of(topics.results(), NewPartitions.increaseTo(12))).all()
                .get(30, TimeUnit.SECONDS);
        }
        // an agent that noticed the growth writes to the new partition, possibly before the worker noticed it
        await().atMost(WAIT).until(() -> agents.partitionsFor(topics.results()).size() == 12);
        assertThat(send(me, null)).as("the default partitioner on the grown topic").isEqualTo(moved);
        // one that has not noticed yet still writes to the old one
        send(me, old);
        await().atMost(WAIT).until(() -> delivered.size() == 3);

        // after keepOld the old partition is let go: a result written there now is not read (its command would
        // time out and be sent again), while the new partition is
        Thread.sleep(3_000 + 1_000);
        double readBefore = metrics.resultsRead.get();
        send(me, old);
        send(me, moved);
        await().atMost(WAIT).until(() -> delivered.size() == 4);
        Thread.sleep(1_000);
        assertThat(delivered).hasSize(4);
        assertThat(metrics.resultsRead.get() - readBefore).isEqualTo(1);
    }

    /** Sends a result addressed to {@code workerId}, to {@code partition} or where the partitioner puts it. */
    private int send(String workerId, Integer partition) throws Exception {
        SyncResult r = SyncResult.newBuilder()
            .setCommandId(UUID.randomUUID().toString()).setHostId("h").setRootId("r").setDestination(DESTINATION)
            .setReplyTo(workerId).setOutcome(SyncOutcome.OK).setExitCode(0).setFilesTransferred(0).setBytesSent(0)
            .setLiteralBytes(0).setDurationMs(1).setFinishedAtMs(System.currentTimeMillis()).build();
        return agents.send(new ProducerRecord<>(topics.results(), partition,
            workerId.getBytes(StandardCharsets.UTF_8), codec.encode(r))).get(30, TimeUnit.SECONDS).partition();
    }
}
