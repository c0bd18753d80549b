package io.rtbackup.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.TransferTuning.Compression;
import io.rtbackup.agent.config.TransferTuning.IoClass;
import io.rtbackup.agent.config.TransferTuning.IoPriority;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** destination.NAME.bwlimit / compress / nice / ionice as ExecConfig reads them. */
class TransferTuningTest {
    private static final String DAEMON = "rsync://backup@nas:873/rtb";

    private static TransferTuning read(String url, String... kv) {
        Properties p = new Properties();
        p.setProperty("destination.d.url", url);
        for (int i = 0; i < kv.length; i += 2) p.setProperty("destination.d." + kv[i], kv[i + 1]);
        return ExecConfig.from(p, Map.of()).destinations().get("d").tuning();
    }

    @Test
    void offByDefault() {
        assertThat(read(DAEMON)).isEqualTo(TransferTuning.DEFAULT);
        assertThat(read("/srv/replica")).isEqualTo(TransferTuning.DEFAULT);
        assertThat(TransferTuning.DEFAULT.unchangedPriority()).isTrue();
    }

    @Test
    void readsEverySetting() {
        TransferTuning t = read(DAEMON, "bwlimit", "5m", "compress", "zstd", "nice", "19", "ionice", "best-effort:7");
        assertThat(t.bwlimit()).contains("5m");
        assertThat(t.compression()).isEqualTo(Compression.ZSTD);
        assertThat(t.compression().choice()).contains("zstd");
        assertThat(t.nice()).isEqualTo(19);
        assertThat(t.ioPriority()).isEqualTo(new IoPriority(IoClass.BEST_EFFORT, OptionalInt.of(7)));
        assertThat(read(DAEMON, "compress", "auto", "ionice", "idle").compression().choice()).isEmpty();
        assertThat(read(DAEMON, "ionice", "best-effort").ioPriority().level()).isEmpty();
        assertThat(read(DAEMON, "ionice", "none", "nice", "0").unchangedPriority()).isTrue();
        assertThat(read("/srv/replica", "bwlimit", "5000", "compress", "none").bwlimit()).isEqualTo(Optional.of("5000"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bwlimit|0|whole number of KiB/s",
        "bwlimit|1.5m|whole number of KiB/s",
        "bwlimit|5mb|whole number of KiB/s",
        "bwlimit|-1|whole number of KiB/s",
        "bwlimit|5 m|whole number of KiB/s",
        "compress|gzip|none, auto, zstd, lz4, zlib",
        "compress|ZSTD|none, auto, zstd, lz4, zlib",
        "nice|20|niceness 0-19",
        "nice|-5|niceness 0-19",
        "nice|x|niceness 0-19",
        "ionice|realtime|none, idle, best-effort or best-effort:0-7",
        "ionice|best-effort:8|none, idle, best-effort or best-effort:0-7",
        "ionice|idle:3|none, idle, best-effort or best-effort:0-7",
    })
    void malformedValuesNameTheKey(String setting, String value, String hint) {
        assertThatThrownBy(() -> read(DAEMON, setting, value))
            .isInstanceOf(ConfigException.class)
            .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("destination.d." + setting))
            .hasMessageContaining("'" + value + "'").hasMessageContaining(hint);
    }

    @Test
    void aLocalDirectoryRefusesCompression() {
        assertThatThrownBy(() -> read("/srv/replica", "compress", "auto"))
            .isInstanceOf(ConfigException.class)
            .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("destination.d.compress"))
            .hasMessageContaining("local directory").hasMessageContaining("only cost CPU");
    }
}
