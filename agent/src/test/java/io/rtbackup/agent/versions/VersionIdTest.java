package io.rtbackup.agent.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ids rtb versions shows and rtb restore --version resolves. */
class VersionIdTest {
    private static final Instant T = Instant.parse("2026-11-26T19:40:12.345Z");
    private final VersionStamp a = VersionStamp.of(T, "ab12cd34-0000");
    private final VersionStamp b = VersionStamp.of(T.plusSeconds(60), "ef56ab78-1111");
    private final VersionStamp sameTag = VersionStamp.of(T.plusSeconds(3600), "ab12cd34-2222");

    @Test
    void theShortIdIsTheTagUnlessAnotherVersionSharesIt() {
        assertThat(VersionId.shortId(b, List.of(a, b))).isEqualTo("ef56ab78");
        assertThat(VersionId.shortId(a, List.of(a, b))).isEqualTo("ab12cd34");
        assertThat(VersionId.shortId(a, List.of(a, b, sameTag))).isEqualTo("20261126T194012.345Z-ab12cd34");
    }

    @Test
    void idsResolveByNameTagOrUniquePrefix() {
        List<VersionStamp> all = List.of(a, b, sameTag);
        assertThat(VersionId.resolve("ef56ab78", all)).contains(b);
        assertThat(VersionId.resolve(a.name(), all)).contains(a);
        assertThat(VersionId.resolve("20261126T1941", all)).contains(b);
        assertThat(VersionId.resolve("current", all)).isEmpty();
        assertThat(VersionId.resolve("CURRENT", all)).isEmpty();
        assertThatThrownBy(() -> VersionId.resolve("ab12cd34", all)).hasMessageContaining("ambiguous")
            .hasMessageContaining(a.name()).hasMessageContaining(sameTag.name());
        assertThatThrownBy(() -> VersionId.resolve("2026", all)).hasMessageContaining("ambiguous");
        assertThatThrownBy(() -> VersionId.resolve("zz", all)).hasMessageContaining("no version 'zz'")
            .hasMessageContaining("rtb versions");
        assertThatThrownBy(() -> VersionId.resolve("", all)).hasMessageContaining("no version ''");
    }
}
