package io.rtbackup.worker;

import static io.rtbackup.worker.testing.Events.paths;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.ResultPartitions;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.testing.Events;
import io.rtbackup.worker.testing.TestAgent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the real broker: a result written where its worker does not read (a writer that keys results by host instead
 * of {@code replyTo}, or an agent that has not noticed the results topic grow) is never seen; the command times out
 * and is sent again, and its event is not committed until a result the worker reads covers it.
 */
@ExtendWith(KafkaBrokerExtension.class)
class MisroutedResultTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Events events;
    private TestAgent agent;
    private Worker worker;
    private KafkaProducer<byte[], byte[]> misrouting;
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @BeforeEach
    void setUp(KafkaBroker broker) {
        events = new Events(broker.bootstrapServers());
        misrouting = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, events.bootstrap,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
    }

    @AfterEach
    void tearDown() {
        if (worker != null) worker.close();
        if (agent != null) agent.close();
        misrouting.close(Duration.ofSeconds(5));
        events.close();
        fatal.assertNone();
    }

    @Test
    void aResultWhereTheWorkerDoesNotReadOnlyCausesARetryNeverACommit() throws Exception {
        String dest = Events.uniqueDestination("nas");
        agent = new TestAgent(events.bootstrap, events.topics, TestAgent::manual);
        Properties p = new Properties();
        p.setProperty("worker.id", "w-misrouted");
        p.setProperty("destination." + dest + ".routes", "*:*");
        p.setProperty("coalesce.debounce-ms", "50");
        p.setProperty("commit.interval-ms", "100");
        p.setProperty("retry.initial-backoff-ms", "100");
        p.setProperty("result.timeout-ms", "2000");
        worker = new Worker(WorkerConfig.fromProperties(p), events.topics, events.bootstrap, new PrometheusRegistry(),
            fatal);
        worker.start();
        assertThat(worker.awaitReady(WAIT)).isTrue();

        events.event("h1", "data", "x", FileOp.CLOSE_WRITE);
        SyncCommand first = agent.nextUnanswered(WAIT);
        // an OK for it, keyed by host, in a partition other than the one the worker reads
        int partitions = misrouting.partitionsFor(events.topics.results()).size();
        int read = ResultPartitions.of(worker.workerId(), partitions);
        int elsewhere = (read + 1) % partitions;
        misrouting.send(new ProducerRecord<>(events.topics.results(), elsewhere,
            "h1".getBytes(StandardCharsets.UTF_8),
            AvroCodec.syncResults().encode(TestAgent.result(first, SyncOutcome.OK, null)))).get(30, TimeUnit.SECONDS);

        // not seen: the command times out and goes again, and the event stays uncommitted meanwhile
        SyncCommand again = agent.nextUnanswered(WAIT);
        assertThat(paths(again.getPaths())).containsExactly("x");
        assertThat(again.getCommandId()).isNotEqualTo(first.getCommandId());
        assertThat(again.getIssuedAtMs() - first.getIssuedAtMs()).isGreaterThanOrEqualTo(2000);
        assertThat(events.uncommitted(dest)).isEqualTo(1);

        // answered where the worker reads (keyed by replyTo, as the agent does): done and committed
        agent.respond(again, SyncOutcome.OK, null);
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
        SyncResult seen = agent.sent().get(agent.sent().size() - 1);
        assertThat(seen.getReplyTo()).isEqualTo(worker.workerId());
    }
}
