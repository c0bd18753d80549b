package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RsyncStatsTest {
    // Captured from rsync 3.5.0 --stats --no-human-readable (a push to a daemon).
    private static final String OUTPUT = """

        Number of files: 4 (reg: 2, dir: 2)
        Number of created files: 1 (reg: 1)
        Number of deleted files: 3 (reg: 2, dir: 1)
        Number of regular files transferred: 2
        Total file size: 268435456 bytes
        Total transferred file size: 268435456 bytes
        Literal data: 1048576 bytes
        Matched data: 267386880 bytes
        File list size: 0
        File list generation time: 0.001 seconds
        File list transfer time: 0.000 seconds
        Total bytes sent: 1111238
        Total bytes received: 98501

        sent 1111238 bytes  received 98501 bytes  806492.67 bytes/sec
        total size is 268435456  speedup is 221.89
        """;

    @Test
    void parsesTheSummary() {
        assertThat(RsyncStats.parse(OUTPUT)).isEqualTo(new RsyncStats(2, 3, 1111238, 1048576, 267386880));
    }

    @Test
    void toleratesThousandsSeparatorsAndMissingLines() {
        assertThat(RsyncStats.parse("Total bytes sent: 1,234,567\n").bytesSent()).isEqualTo(1234567);
        assertThat(RsyncStats.parse("@ERROR: auth failed on module m\n")).isEqualTo(RsyncStats.NONE);
    }
}
