package io.rtbackup.agent.capture.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A filesystem mark reports the whole disk: only a root itself and what lies below it count. */
class RootPathsTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aRootAndWhatLiesUnderItOnly() {
        RootPaths roots = new RootPaths(List.of(b("/srv/a"), b("/data/\u00ff\nx")));
        assertThat(roots.contains(b("/srv/a"))).isTrue();
        assertThat(roots.contains(b("/srv/a/f"))).isTrue();
        assertThat(roots.contains(b("/data/\u00ff\nx/-n"))).isTrue();
        assertThat(roots.contains(b("/srv/ab"))).as("a sibling sharing the root's prefix").isFalse();
        assertThat(roots.contains(b("/srv"))).isFalse();
        assertThat(roots.contains(b("/data/\u00ff"))).isFalse();
    }

    @Test
    void theFilesystemRootHoldsEveryAbsolutePath() {
        RootPaths roots = new RootPaths(List.of(b("/")));
        assertThat(roots.contains(b("/"))).isTrue();
        assertThat(roots.contains(b("/x/y"))).isTrue();
        assertThat(roots.contains(b("x"))).isFalse();
    }
}
