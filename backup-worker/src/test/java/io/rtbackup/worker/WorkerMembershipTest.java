package io.rtbackup.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.testing.Events;
import io.rtbackup.worker.testing.TestAgent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker's place in each destination's group is named by its worker id ({@link Worker#groupInstanceId}): a
 * second live worker under the same id takes the place over and the first one stops, and nothing is lost.
 */
@ExtendWith(KafkaBrokerExtension.class)
class WorkerMembershipTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Events events;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void setUp(KafkaBroker broker) {
        events = new Events(broker.bootstrapServers());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
        if (events != null) events.close();
    }

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    private Worker start(String workerId, String destination) throws InterruptedException {
        Properties p = new Properties();
        p.setProperty("worker.id", workerId);
        p.setProperty("destination." + destination + ".routes", "*:*");
        p.setProperty("coalesce.debounce-ms", "50");
        p.setProperty("commit.interval-ms", "100");
        Worker w = new Worker(WorkerConfig.fromProperties(p), events.topics, events.bootstrap,
            new PrometheusRegistry(), fatal);
        closeables.add(w);
        w.start();
        assertThat(w.awaitReady(WAIT)).as("worker %s joined its group", workerId).isTrue();
        return w;
    }

    @Test
    void aSecondLiveWorkerWithTheSameIdTakesOverAndTheFirstStops() throws Exception {
        String dest = Events.uniqueDestination("twin");
        TestAgent agent = new TestAgent(events.bootstrap, events.topics, TestAgent::allOk);
        closeables.add(agent);
        Worker first = start("twin", dest);
        events.event("h1", "data", "before", FileOp.CLOSE_WRITE);
        await().atMost(WAIT).untilAsserted(() -> assertThat(agent.okPaths()).contains("h1:data:before"));

        Worker second = start("twin", dest);
        await().atMost(WAIT).untilAsserted(() -> assertThat(first.fenced()).as("the first worker was fenced").isTrue());
        assertThat(second.fenced()).isFalse();
        // the fenced worker ends its process (non-zero), naming the id
        await().atMost(WAIT).untilAsserted(() -> assertThat(fatal.reports()).singleElement()
            .satisfies(r -> assertThat(r.cause()).hasMessageContaining("worker.id twin").hasMessageContaining("took over")));

        events.event("h1", "data", "after", FileOp.CLOSE_WRITE);
        await().atMost(WAIT).untilAsserted(() -> assertThat(agent.okPaths()).contains("h1:data:after"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(events.uncommitted(dest)).isZero());
    }
}
