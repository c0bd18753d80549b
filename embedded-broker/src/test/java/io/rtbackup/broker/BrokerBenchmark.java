package io.rtbackup.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Prints broker start-up and round-trip figures for the in-JVM and the child-JVM broker. Not part of the default
 * test run (tag {@code benchmark}); run with {@code ./bench/run broker}.
 */
@Tag("benchmark")
class BrokerBenchmark {

    @Test
    void startAndRoundTrip() throws Exception {
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "%-10s %5s %12s %14s %12s %12s %10s%n", "broker", "run", "start ms",
            "1st record ms", "rt p50 ms", "rt p99 ms", "RSS MiB"));
        for (String kind : List.of("embedded", "child-jvm")) {
            for (int run = 1; run <= 3; run++) {
                Path dir = Files.createTempDirectory("rtb-bench-kafka");
                long t0 = System.nanoTime();
                KafkaBroker broker = kind.equals("embedded")
                    ? EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(dir))
                    : ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(dir));
                long started = System.nanoTime();
                Topics topics = Topics.withPrefix("bench" + run + ".");
                TopicProvisioner.ensure(broker.bootstrapServers(), topics);
                double[] rt = roundTrips(broker, topics.events(), 200);
                long first = (long) ((started - t0) / 1e6 + rt[rt.length - 1]); // see roundTrips: last slot = first
                double[] sorted = Arrays.copyOf(rt, rt.length - 1);
                Arrays.sort(sorted);
                long rss = kind.equals("embedded") ? rssKib(ProcessHandle.current().pid())
                    : rssKib(((ChildJvmKafkaBroker) broker).pid());
                report.append(String.format(Locale.ROOT, "%-10s %5d %12d %14d %12.2f %12.2f %10d%n", kind, run,
                    (started - t0) / 1_000_000, first, sorted[sorted.length / 2],
                    sorted[(int) (sorted.length * 0.99)], rss / 1024));
                broker.close();
            }
        }
        System.out.print(report);
        Path out = Path.of(System.getProperty("rtb.repo.root", "."), "bench", "results", "broker.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report.toString());
    }

    /**
     * Sends {@code n} records one at a time (acks=all, idempotent, lz4) and waits for each at a consumer. Returns
     * the round trips in ms; the extra last slot is the time from creating the clients to the first record back.
     */
    static double[] roundTrips(KafkaBroker broker, String topic, int n) {
        long t0 = System.nanoTime();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        double[] out = new double[n + 1];
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());
             KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToEnd(List.of(tp));
            c.position(tp);
            byte[] payload = new byte[200];
            for (int i = 0; i < n; i++) {
                long s = System.nanoTime();
                p.send(new ProducerRecord<>(topic, 0, null, payload));
                p.flush();
                int got = 0;
                while (got == 0) got = c.poll(Duration.ofMillis(100)).count();
                out[i] = (System.nanoTime() - s) / 1e6;
                if (i == 0) out[n] = (System.nanoTime() - t0) / 1e6;
            }
        }
        return out;
    }

    static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
