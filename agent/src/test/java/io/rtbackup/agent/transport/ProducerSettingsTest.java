package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/** The agent producer's settings that latency and delivery order depend on (issue 18). */
class ProducerSettingsTest {

    @Test
    void aRecordIsSentAtOnceWithoutLingerButStillOneRequestAtATimeAndDurable() {
        Properties p = ProducerSettings.properties(Map.of("bootstrap.servers", "127.0.0.1:9092"), "h1");
        // every command result crosses this producer once per command cycle: a linger is paid on each of them
        assertThat(p.getProperty(ProducerConfig.LINGER_MS_CONFIG)).isEqualTo("0");
        // batching under a storm comes from the single request in flight (KAFKA-15591 keeps it at one)
        assertThat(p.getProperty(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION)).isEqualTo("1");
        assertThat(p.getProperty(ProducerConfig.ACKS_CONFIG)).isEqualTo("all");
        assertThat(p.getProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)).isEqualTo("true");
    }

    @Test
    void theConfigsKafkaSettingsStillGoOnTop() {
        Properties p = ProducerSettings.properties(Map.of("linger.ms", "5"), "h1");
        assertThat(p.getProperty(ProducerConfig.LINGER_MS_CONFIG)).isEqualTo("5");
    }
}
