package io.rtbackup.agent.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncarnationTest {
    @TempDir
    Path dir;

    private static Clock at(long ms) {
        return Clock.fixed(Instant.ofEpochMilli(ms), ZoneOffset.UTC);
    }

    @Test
    void everyStartGetsALargerNumberEvenWhenTheClockStepsBack() {
        long first = Incarnation.next(dir, at(1_000_000));
        assertThat(first).isEqualTo(1_000_000);
        long second = Incarnation.next(dir, at(1_000_000 - 120_000)); // the clock stepped back 2 minutes
        assertThat(second).isEqualTo(first + 1);
        long third = Incarnation.next(dir, at(5_000_000));
        assertThat(third).isEqualTo(5_000_000);
        assertThat(Incarnation.next(dir, at(0))).isEqualTo(third + 1);
    }

    @Test
    void theNumberIsStoredPrivatelyInTheStateDirectoryItCreates() throws Exception {
        Path state = dir.resolve("a/b");
        long n = Incarnation.next(state, at(42));
        Path file = state.resolve(Incarnation.FILE);
        assertThat(Files.readString(file).trim()).isEqualTo(String.valueOf(n));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var files = Files.list(state)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly(Incarnation.FILE);
        }
    }

    @Test
    void anUnreadableFileFallsBackToTheWallClockAndIsRepaired() throws Exception {
        Files.writeString(dir.resolve(Incarnation.FILE), "garbage\0");
        assertThat(Incarnation.next(dir, at(7_000))).isEqualTo(7_000);
        assertThat(Incarnation.next(dir, at(1))).isEqualTo(7_001);
    }

    @Test
    void aStateDirectoryThatCannotBeWrittenStopsTheStart() throws Exception {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        assertThatThrownBy(() -> Incarnation.next(notADir, at(1))).isInstanceOf(UncheckedIOException.class)
            .hasMessageContaining("state.dir");
    }
}
