package io.rtbackup.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ConfigException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AgentConfigTest {

    @Test
    void aHostIdTheWorkersWouldRefuseStopsTheStart() {
        Properties p = new Properties();
        p.setProperty(CaptureConfig.HOST_ID, "a b");
        p.setProperty("root.r1.path", "/nonexistent-is-not-looked-at");
        assertThatThrownBy(() -> AgentConfig.from(p, Map.of()))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(CaptureConfig.HOST_ID))
            .hasMessageContaining("host id 'a b' contains a space")
            .hasMessageContaining("A-Z a-z 0-9");
    }

    @Test
    void hostNamesPassTheHostIdRule() {
        Properties p = new Properties();
        p.setProperty("root.r1.path", "/nonexistent-is-not-looked-at");
        p.setProperty(CaptureConfig.HOST_ID, "web-01.example.com");
        assertThat(CaptureConfig.parse(p).hostId()).isEqualTo("web-01.example.com");
        p.setProperty(CaptureConfig.HOST_ID, "caf\u00e9");
        assertThatThrownBy(() -> CaptureConfig.parse(p)).hasMessageContaining("\\xe9");
    }

    @Test
    void reconciliationSettingsAreAnAgentSection() {
        Properties p = new Properties();
        p.setProperty(CaptureConfig.HOST_ID, "h1");
        p.setProperty("root.r1.path", "/");
        p.setProperty("reconcile.interval-h", "0");
        assertThat(AgentConfig.from(p, Map.of()).reconcile().enabled()).isFalse();
        p.setProperty("reconcile.typo", "1");
        assertThatThrownBy(() -> AgentConfig.from(p, Map.of()))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("reconcile.typo"));
    }
}
