package io.rtbackup.agent.exclude;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExcludeMatcherTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aNameGlobMatchesAtAnyDepthAndEverythingBelow() {
        ExcludeMatcher m = new ExcludeMatcher(List.of("*.tmp", ".cache"));
        assertThat(m.excluded(b("x.tmp"))).isTrue();
        assertThat(m.excluded(b("a/b/x.tmp"))).isTrue();
        assertThat(m.excluded(b("a/b/x.tmpl"))).isFalse();
        assertThat(m.excluded(b("home/.cache/fonts/f1"))).isTrue();
        assertThat(m.excluded(b("home/.cachet"))).isFalse();
        assertThat(m.excluded(new byte[0])).as("the root itself").isFalse();
    }

    @Test
    void aPathGlobIsAnchoredAtTheRoot() {
        ExcludeMatcher m = new ExcludeMatcher(List.of("build/out", "logs/**/*.gz", "/top"));
        assertThat(m.excluded(b("build/out"))).isTrue();
        assertThat(m.excluded(b("build/out/x/y"))).isTrue();
        assertThat(m.excluded(b("sub/build/out"))).isFalse();
        assertThat(m.excluded(b("logs/a.gz"))).isTrue();
        assertThat(m.excluded(b("logs/2024/01/a.gz"))).isTrue();
        assertThat(m.excluded(b("logs/a.txt"))).isFalse();
        assertThat(m.excluded(b("top"))).isTrue();
        assertThat(m.excluded(b("x/top"))).isFalse();
    }

    @Test
    void starAndQuestionMarkStayWithinOneNameAndBytesAreMatchedRaw() {
        ExcludeMatcher m = new ExcludeMatcher(List.of("a*/c", "f?", "lit\\*"));
        assertThat(m.excluded(b("ab/c"))).isTrue();
        assertThat(m.excluded(b("ab/x/c"))).isFalse();
        assertThat(m.excluded(new byte[] {'d', '/', 'f', (byte) 0xff})).isTrue();
        assertThat(m.excluded(b("lit*"))).isTrue();
        assertThat(m.excluded(b("litx"))).isFalse();
        assertThat(m.excluded(new byte[] {'n', '\n', 'l'})).isFalse();
    }
}
