package io.rtbackup.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ConfigException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ReconcileConfigTest {

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void dailyWithTenPercentJitterByDefaultZeroTurnsItOff() {
        assertThat(ReconcileConfig.from(props())).isEqualTo(ReconcileConfig.DEFAULT);
        assertThat(ReconcileConfig.DEFAULT.interval()).isEqualTo(Duration.ofHours(24));
        assertThat(ReconcileConfig.DEFAULT.jitterFraction()).isEqualTo(0.1);
        ReconcileConfig c = ReconcileConfig.from(props(ReconcileConfig.INTERVAL_H, "6", ReconcileConfig.JITTER_PCT, "0"));
        assertThat(c).isEqualTo(new ReconcileConfig(Duration.ofHours(6), 0));
        assertThat(ReconcileConfig.from(props(ReconcileConfig.INTERVAL_H, "0")).enabled()).isFalse();
    }

    @Test
    void badValuesAndUnknownKeysNameTheKey() {
        assertThatThrownBy(() -> ReconcileConfig.from(props(ReconcileConfig.INTERVAL_H, "-1")))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("reconcile.interval-h"))
            .hasMessageContaining("got '-1'");
        assertThatThrownBy(() -> ReconcileConfig.from(props(ReconcileConfig.JITTER_PCT, "60")))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("reconcile.jitter-pct"))
            .hasMessageContaining("0-50");
        assertThatThrownBy(() -> ReconcileConfig.from(props("reconcile.interval-s", "60")))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("reconcile.interval-s"))
            .hasMessageContaining("unknown setting");
    }
}
