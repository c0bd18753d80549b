package io.rtbackup.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.exclude.ExcludeMatcher;
import io.rtbackup.testkit.TempDirs;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class CaptureConfigTest {

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void aLeadingSlashStaysAndAnchorsTheGlobAtTheRoot() {
        CaptureConfig c = CaptureConfig.parse(props("host.id", "h", "root.a.path", "/srv/a",
                "root.a.exclude", "/cache, build/out,*.key"));
        List<String> globs = c.roots().get(0).excludes();
        assertThat(globs).containsExactly("/cache", "build/out", "*.key");
        ExcludeMatcher m = new ExcludeMatcher(globs);
        assertThat(m.excluded("cache/x".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(m.excluded("sub/cache/x".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThatThrownBy(() -> CaptureConfig.parse(props("host.id", "h", "root.a.path", "/srv/a",
                "root.a.exclude", "//"))).isInstanceOf(ConfigException.class).hasMessageContaining("whole root");
    }

    @Test
    void readsRootsExcludesSourceAndKafkaSettings() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-cfg")) {
            tmp.newDir("a");
            tmp.newDir("b");
            CaptureConfig c = CaptureConfig.fromProperties(props(
                    "host.id", "web-01",
                    "root.a.path", tmp.pathString() + "/a/",
                    "root.a.exclude", "*.tmp, cache/** ,",
                    "root.b.path", tmp.pathString() + "/b",
                    "capture.source", "Inotify",
                    "capture.merge-window-ms", "20",
                    "publish.buffer-events", "1000",
                    "kafka.bootstrap.servers", "k1:9092",
                    "kafka.security.protocol", "SSL"));
            assertThat(c.hostId()).isEqualTo("web-01");
            assertThat(c.roots()).extracting(CaptureConfig.RootConfig::id).containsExactly("a", "b");
            assertThat(c.roots().get(0).path()).isEqualTo(tmp.pathString() + "/a");
            assertThat(c.roots().get(0).excludes()).containsExactly("*.tmp", "cache/**");
            assertThat(c.source()).isEqualTo(CaptureConfig.SourceChoice.INOTIFY);
            assertThat(c.mergeWindow().toMillis()).isEqualTo(20);
            assertThat(c.publishBufferEvents()).isEqualTo(1000);
            assertThat(c.kafka()).containsEntry("bootstrap.servers", "k1:9092")
                    .containsEntry("security.protocol", "SSL");
        }
    }

    @Test
    void theHostIdDefaultsToTheHostName() {
        CaptureConfig c = CaptureConfig.parse(props("root.r.path", "/srv"));
        assertThat(c.hostId()).isNotBlank();
        assertThat(c.source()).isEqualTo(CaptureConfig.SourceChoice.AUTO);
        assertThat(c.mergeWindow().toMillis()).isEqualTo(50);
    }

    @Test
    void errorsNameTheKey() throws Exception {
        record Case(Properties props, String key, String text) {}
        List<Case> cases = List.of(
                new Case(props("host.id", "h"), "root.<id>.path", "no root configured"),
                new Case(props("root.a.exclude", "*.x"), "root.a.path", "missing"),
                new Case(props("root.a.path", "relative/dir"), "root.a.path", "not an absolute path"),
                new Case(props("root.a.path", "/srv", "root.b.path", "/srv/www"), "root.b.path", "overlaps root.a.path"),
                new Case(props("root.a.path", "/srv/../etc"), "root.a.path", "'..'"),
                new Case(props("root.bad id.path", "/srv"), "root.bad id.path", "root id"),
                new Case(props("root.a.path", "/srv", "capture.source", "dtrace"), "capture.source", "dtrace"),
                new Case(props("root.a.path", "/srv", "capture.merge-window-ms", "soon"), "capture.merge-window-ms",
                        "not a number"),
                new Case(props("root.a.path", "/srv", "publish.buffer-events", "1"), "publish.buffer-events",
                        "out of range"),
                new Case(props("root.a.pth", "/srv"), "root.a.pth", "unknown root setting"));
        for (Case c : cases) {
            assertThatThrownBy(() -> CaptureConfig.parse(c.props()))
                    .as(c.props().toString())
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(c.key() + ": ")
                    .hasMessageContaining(c.text())
                    .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(c.key()));
        }
    }

    @Test
    void hostChecksNameTheRootThatIsMissingOrNotADirectory() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-cfg2")) {
            assertThatThrownBy(() -> CaptureConfig.fromProperties(props("root.gone.path", tmp.pathString() + "/nope")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("root.gone.path: ")
                    .hasMessageContaining("does not exist");
            io.rtbackup.fs.ByteFs.write(tmp.resolve("file"), new byte[] {1});
            assertThatThrownBy(() -> CaptureConfig.fromProperties(props("root.f.path", tmp.pathString() + "/file")))
                    .hasMessageStartingWith("root.f.path: ")
                    .hasMessageContaining("not a directory");
        }
    }
}
