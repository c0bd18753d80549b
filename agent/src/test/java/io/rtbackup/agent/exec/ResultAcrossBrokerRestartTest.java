package io.rtbackup.agent.exec;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.transport.ProducerSettings;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A result finished while the (only) broker is dead reaches the results topic once the broker is back within the
 * old results producer's one-minute block. The agent's shared producer blocks a send for 2 s at most (the events'
 * {@code max.block.ms}); once the client found no broker it rebootstraps and forgets every topic's metadata, so a
 * result sent then used to fail with "Topic ... not present in metadata" and was dropped, and the worker waited its
 * result timeout (5 min) to reissue the command (seen as FaultScenariosTest's broker restart never converging).
 * Real broker in a child JVM, SIGKILLed and restarted on the same log dir and ports.
 */
class ResultAcrossBrokerRestartTest {

    @Test
    void aResultSentWhileTheBrokerIsDeadArrivesAfterItsRestart(@TempDir Path brokerDir) throws Exception {
        BrokerSettings settings = BrokerSettings.onFreePorts(brokerDir);
        ChildJvmKafkaBroker broker = ChildJvmKafkaBroker.start(settings);
        Topics topics = Topics.withPrefix("restart-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        try (Producer<byte[], byte[]> producer = ProducerSettings.create(Map.of("bootstrap.servers",
                broker.bootstrapServers(), "reconnect.backoff.max.ms", "300"), "h1")) {
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            ResultPublisher results = new ResultPublisher("h1", topics.results(), producer, RecordSigner.NONE,
                new ExecMetrics(new PrometheusRegistry()), Clock.systemUTC(), (id, kv) -> { }, fatal);
            SyncCommand cmd = Commands.full("h1", "r1", "d1");
            CompletableFuture<Boolean> first = new CompletableFuture<>();
            results.republish(cmd, key("before"), value("before"), first::complete);
            assertThat(first.get(30, TimeUnit.SECONDS)).isTrue();

            broker.kill();
            Thread.sleep(3_000); // the client found no broker: it rebootstrapped, its metadata knows no topic now
            CompletableFuture<Boolean> during = new CompletableFuture<>();
            Thread sender = new Thread(() -> results.republish(cmd, key("during"), value("during"),
                during::complete), "test-result-sender");
            sender.start();
            Thread.sleep(2_500); // past the shared producer's max.block.ms
            broker = ChildJvmKafkaBroker.start(settings);
            assertThat(during.get(90, TimeUnit.SECONDS)).as("the producer took the result").isTrue();
            assertThat(readValues(broker.bootstrapServers(), topics.results(), 2, Duration.ofSeconds(60)))
                .as("both results on the results topic").contains("before", "during");
            fatal.assertNone();
        } finally {
            broker.close();
        }
    }

    private static byte[] key(String s) {
        return ("reply-" + s).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> readValues(String bootstrap, String topic, int want, Duration max) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            List<String> got = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + max.toNanos();
            while (got.size() < want && System.nanoTime() - deadline < 0) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    got.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
            return got;
        }
    }
}
