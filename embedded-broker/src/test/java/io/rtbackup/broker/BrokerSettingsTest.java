package io.rtbackup.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class BrokerSettingsTest {
    private static final Path LOG = Path.of("/tmp/rtb-settings-test");

    @Test
    void withoutSecurityOnlyLoopbackIsAllowed() {
        assertThatThrownBy(() -> new BrokerSettings(LOG, "0.0.0.0", "broker.example", 9092, 9093, Optional.empty(),
            Map.of())).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("refusing to listen on 0.0.0.0 without authentication")
            .hasMessageContaining("--keystore");
        Properties p = new BrokerSettings(LOG, "localhost", "localhost", 9092, 9093, Optional.empty(), Map.of())
            .toProperties();
        assertThat(p.getProperty("listeners")).isEqualTo("PLAINTEXT://localhost:9092,CONTROLLER://127.0.0.1:9093");
    }

    @Test
    void aSecureBrokerServesSaslSslWithScramAndTheStandardAuthorizer() {
        BrokerSecurity security = new BrokerSecurity(Path.of("/etc/rtb/broker.p12"), "kspw", Optional.empty(),
            Optional.empty(), "adminpw", Map.of("host-web1", "webpw"));
        BrokerSettings s = new BrokerSettings(LOG, "0.0.0.0", "broker.example", 9092, 9093, Optional.of(security),
            Map.of());
        Properties p = s.toProperties();
        assertThat(p.getProperty("listeners")).isEqualTo("SASL_SSL://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093");
        assertThat(p.getProperty("advertised.listeners")).isEqualTo("SASL_SSL://broker.example:9092");
        assertThat(p.getProperty("listener.security.protocol.map")).isEqualTo("CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL");
        assertThat(p.getProperty("authorizer.class.name"))
            .isEqualTo("org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        assertThat(p.getProperty("super.users")).isEqualTo("User:admin");
        assertThat(p.getProperty("listener.name.sasl_ssl.sasl.enabled.mechanisms")).isEqualTo("SCRAM-SHA-512");
        assertThat(s.localAddress()).isEqualTo("127.0.0.1");
        assertThat(s.bootstrapServers()).isEqualTo("broker.example:9092");
        assertThat(s.adminClientProperties()).containsEntry("security.protocol", "SASL_SSL");
        assertThat(security.toString()).doesNotContain("kspw", "adminpw", "webpw");
    }

    @Test
    void adminIsNotAnOrdinaryUser() {
        assertThatThrownBy(() -> new BrokerSecurity(Path.of("k.p12"), "k", Optional.empty(), Optional.empty(), "a",
            Map.of("admin", "x"))).hasMessageContaining("super user");
    }
}
