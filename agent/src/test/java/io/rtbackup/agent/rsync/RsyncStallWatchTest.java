package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stall watch's reading of arguments and of {@code /proc}; its effect on real runs: StalledRsyncTest. */
class RsyncStallWatchTest {
    @Test
    void theLimitIsTheLastPositiveTimeoutOfTheArguments() {
        assertThat(RsyncStallWatch.limitOf(List.of("rsync", "--timeout=60", "-a", "--timeout=7", "src/", "dst")))
            .contains(Duration.ofSeconds(7));
        assertThat(RsyncStallWatch.limitOf(List.of("rsync", "--timeout=0", "src/", "dst"))).isEmpty();
        assertThat(RsyncStallWatch.limitOf(List.of("rsync", "--version"))).isEmpty();
        assertThat(RsyncStallWatch.limitOf(List.of("rsync", "--timeout=x", "src/", "dst"))).isEmpty();
    }

    @Test
    void countersComeFromIoAndStatEvenWithBlanksInTheName() {
        assertThat(RsyncStallWatch.ioBytes("rchar: 1200\nwchar: 34\nsyscr: 9\nsyscw: 3\nread_bytes: 4096\n"))
            .isEqualTo(1234);
        assertThat(RsyncStallWatch.cpuTicks("4242 (rs ync) S 1 4242 4242 0 -1 4194560 300 0 0 0 17 5 0 0 20 0 1 0 "
            + "123 456 789")).isEqualTo(22);
    }

    @Test
    void keepAlivesAreNoMovementButDataCpuOrAnEndedProcessAre() {
        RsyncStallWatch.Sample before = new RsyncStallWatch.Sample(10_000, 50);
        assertThat(new RsyncStallWatch.Sample(10_016, 50).moved(before)).isFalse();
        assertThat(new RsyncStallWatch.Sample(10_000 + RsyncStallWatch.MOVED_BYTES, 50).moved(before)).isTrue();
        assertThat(new RsyncStallWatch.Sample(10_000, 50 + RsyncStallWatch.MOVED_TICKS).moved(before)).isTrue();
        assertThat(new RsyncStallWatch.Sample(3_000, 20).moved(before)).isTrue();
    }

    @Test
    void aLiveProcessOfAnotherNameIsNotSampled() {
        assertThat(RsyncStallWatch.sample(ProcessHandle.current())).isEmpty(); // this JVM is not rsync
    }
}
