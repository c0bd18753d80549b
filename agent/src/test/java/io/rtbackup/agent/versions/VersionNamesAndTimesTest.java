package io.rtbackup.agent.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig.Versions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stamp names, rsync listing lines, retention selection and the restore time syntax. */
class VersionNamesAndTimesTest {
    private static final Instant NOW = Instant.parse("2026-11-26T19:40:12.345678Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @Test
    void stampsAreSortableUtcMillisecondNamesThatParseBack() {
        VersionStamp s = VersionStamp.of(NOW, "ab12-cd34-ef56");
        assertThat(s.name()).isEqualTo("20261126T194012.345Z-ab12cd34");
        assertThat(VersionStamp.parse(s.name())).contains(s);
        assertThat(VersionStamp.parse("not-a-stamp")).isEmpty();
        assertThat(VersionStamp.parse("20261326T194012.345Z-ab")).as("month 13").isEmpty();
        List<String> names = new ArrayList<>();
        for (long ms : new long[] {999, 1000, 10_000, 86_400_000L * 400}) {
            names.add(VersionStamp.of(NOW.plusMillis(ms), "x").name());
        }
        assertThat(names).isSorted();
    }

    @Test
    void listingLinesDecodeRsyncEscapesToTheExactBytes() throws Exception {
        String out = "cd+++++++++ 2026/11/26-19:38:15 4096 S1/d/\n"
            + ">f+++++++++ 2026/11/26-19:38:15 12345678901 S1/d/we\\#012ird\n"
            + "cL+++++++++ 2026/11/26-19:38:16 1 S1/d/a -> b\n"
            + ">f+++++++++ 2026/11/26-19:38:17 0 not\\#134#012escaped\\x\n";
        List<VersionStore.Entry> e = VersionStore.parse(out.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(e).hasSize(4);
        assertThat(e.get(0).isDirectory()).isTrue();
        assertThat(new String(e.get(0).path(), StandardCharsets.ISO_8859_1)).isEqualTo("S1/d");
        assertThat(e.get(1).path()).isEqualTo("S1/d/we\nird".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(e.get(1).mtimeSecond()).isEqualTo(Instant.parse("2026-11-26T19:38:15Z").getEpochSecond());
        assertThat(e.get(1).size()).isEqualTo(12345678901L);
        assertThat(e.get(3).size()).isZero();
        assertThat(e.get(2).type()).isEqualTo('L');
        assertThat(new String(e.get(2).path(), StandardCharsets.ISO_8859_1)).isEqualTo("S1/d/a -> b");
        assertThat(new String(e.get(3).path(), StandardCharsets.ISO_8859_1)).isEqualTo("not\\#012escaped\\x");
        assertThatThrownBy(() -> VersionStore.parse("garbage\n".getBytes(StandardCharsets.ISO_8859_1)))
            .hasMessageContaining("unexpected rsync listing line");
        assertThatThrownBy(() -> VersionStore.parse(">f+++++++++ 2026/11/26-19:38:17 name-without-size\n"
            .getBytes(StandardCharsets.ISO_8859_1))).hasMessageContaining("no size");
    }

    @Test
    void retentionExpiresByAgeAndByCount() {
        List<VersionStamp> s = new ArrayList<>();
        for (int days : new int[] {40, 31, 29, 10, 1, 0}) s.add(VersionStamp.of(NOW.minus(Duration.ofDays(days)), "d" + days));
        assertThat(Retention.expired(s, new Versions(true, 30, 0), NOW)).containsExactly(s.get(0), s.get(1));
        assertThat(Retention.expired(s, new Versions(true, 0, 2), NOW)).containsExactly(s.subList(0, 4).toArray(new VersionStamp[0]));
        assertThat(Retention.expired(s, new Versions(true, 30, 5), NOW)).containsExactly(s.get(0), s.get(1));
        assertThat(Retention.expired(s, new Versions(true, 0, 0), NOW)).as("no limits: keep all").isEmpty();
        assertThat(Retention.expired(List.of(), new Versions(true, 1, 1), NOW)).isEmpty();
    }

    @Test
    void restoreTimesAreIsoLocalOrRelative() {
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        assertThat(PointInTime.parse("2026-11-26T14:00:00Z", CLOCK, berlin)).isEqualTo(Instant.parse("2026-11-26T14:00:00Z"));
        assertThat(PointInTime.parse("2026-11-26T15:00+01:00", CLOCK, berlin)).isEqualTo(Instant.parse("2026-11-26T14:00:00Z"));
        assertThat(PointInTime.parse("2026-11-26T15:00", CLOCK, berlin)).isEqualTo(Instant.parse("2026-11-26T14:00:00Z"));
        assertThat(PointInTime.parse("2026-11-26 15:00:30", CLOCK, berlin)).isEqualTo(Instant.parse("2026-11-26T14:00:30Z"));
        assertThat(PointInTime.parse("2026-11-26", CLOCK, berlin)).isEqualTo(Instant.parse("2026-11-25T23:00:00Z"));
        assertThat(PointInTime.parse("-2h", CLOCK, berlin)).isEqualTo(NOW.minus(Duration.ofHours(2)));
        assertThat(PointInTime.parse("-1d12h", CLOCK, berlin)).isEqualTo(NOW.minus(Duration.ofHours(36)));
        assertThat(PointInTime.parse("-90s", CLOCK, berlin)).isEqualTo(NOW.minusSeconds(90));
        assertThat(PointInTime.parse("now", CLOCK, berlin)).isEqualTo(NOW);
        assertThatThrownBy(() -> PointInTime.parse("yesterday", CLOCK, berlin))
            .hasMessageContaining("'yesterday' is not a time").hasMessageContaining("-2h");
        assertThatThrownBy(() -> PointInTime.parse("-2x", CLOCK, berlin)).hasMessageContaining("is not a time");
    }
}
