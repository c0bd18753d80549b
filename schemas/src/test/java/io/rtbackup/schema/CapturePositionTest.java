package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CapturePositionTest {
    private static CapturePosition at(long incarnation, long seq) {
        return new CapturePosition(incarnation, seq);
    }

    @Test
    void aSyncCoversEventsOfItsIncarnationUpToItsSequence() {
        CapturePosition sync = at(7, 100);
        assertThat(sync.covers(at(7, 1))).isTrue();
        assertThat(sync.covers(at(7, 100))).as("assigned before the sync started").isTrue();
        assertThat(sync.covers(at(7, 101))).as("assigned after the sync started").isFalse();
    }

    @Test
    void aLaterIncarnationCoversEveryEventOfAnEarlierOneWhateverItsSequence() {
        assertThat(at(8, 0).covers(at(7, Long.MAX_VALUE))).isTrue();
        assertThat(at(7, Long.MAX_VALUE).covers(at(8, 1))).as("an earlier run never covers a later one").isFalse();
    }

    @Test
    void unknownPositionsAreNeverCoveredAndCoverNothing() {
        assertThat(at(7, 100).covers(CapturePosition.UNKNOWN)).isFalse();
        assertThat(at(7, 100).covers(at(0, 5))).isFalse();
        assertThat(at(7, 100).covers(null)).isFalse();
        assertThat(CapturePosition.UNKNOWN.covers(at(1, 1))).isFalse();
        assertThat(CapturePosition.UNKNOWN.covers(CapturePosition.UNKNOWN)).isFalse();
    }

    @Test
    void recordsOfOlderAgentsReadAsUnknown() {
        FileEvent v1 = FileEvent.newBuilder().setHostId("h").setRootId("r").setPath(java.nio.ByteBuffer.allocate(0))
            .setOp(FileOp.MODIFY).setSource(CaptureSource.SCAN).setSeq(1_700_000_000_000_000L).setEventTimeNs(1).build();
        assertThat(CapturePosition.of(v1)).isEqualTo(CapturePosition.UNKNOWN);
        SyncResult v2 = SyncResult.newBuilder().setCommandId("c").setHostId("h").setDestination("d").setOutcome(SyncOutcome.OK)
            .setStartedAtMs(1_700_000_000_000L).build();
        assertThat(CapturePosition.of(v2)).isEqualTo(CapturePosition.UNKNOWN);
        assertThat(CapturePosition.of(v2).covers(CapturePosition.of(v1))).isFalse();
    }

    @Test
    void theNewestEventIsUnknownOnceAnyIsAndTheFurthestSyncIgnoresUnknownOnes() {
        assertThat(CapturePosition.newest(null, at(3, 4))).isEqualTo(at(3, 4));
        assertThat(CapturePosition.newest(at(3, 9), at(4, 1))).isEqualTo(at(4, 1));
        assertThat(CapturePosition.newest(at(3, 9), at(3, 4))).isEqualTo(at(3, 9));
        assertThat(CapturePosition.newest(at(3, 9), CapturePosition.UNKNOWN)).isEqualTo(CapturePosition.UNKNOWN);
        assertThat(CapturePosition.furthest(at(3, 9), CapturePosition.UNKNOWN)).isEqualTo(at(3, 9));
        assertThat(CapturePosition.furthest(null, at(3, 9))).isEqualTo(at(3, 9));
        assertThat(CapturePosition.furthest(at(4, 1), at(3, 9))).isEqualTo(at(4, 1));
    }
}
