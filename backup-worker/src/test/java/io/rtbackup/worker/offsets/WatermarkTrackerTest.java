package io.rtbackup.worker.offsets;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.OffsetRange;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WatermarkTrackerTest {
    private final WatermarkTracker t = new WatermarkTracker();

    @Test
    void nothingConsumedMeansNothingToCommit() {
        assertThat(t.committable(0)).isEmpty();
        assertThat(t.committable()).isEmpty();
    }

    @Test
    void commitsOnlyUpToTheLowestOffsetNotDone() {
        for (long o = 10; o < 15; o++) t.track(0, o);
        assertThat(t.committable(0)).hasValue(10);
        t.done(0, 12);
        t.done(0, 13);
        assertThat(t.committable(0)).as("10 is still waiting").hasValue(10);
        t.done(0, 10);
        assertThat(t.committable(0)).as("11 is still waiting").hasValue(11);
        t.done(0, 11);
        assertThat(t.committable(0)).hasValue(14);
        t.done(0, 14);
        assertThat(t.committable(0)).as("all done: the next offset").hasValue(15);
        assertThat(t.outstanding(0)).isZero();
    }

    @Test
    void partitionsAreIndependent() {
        t.track(0, 5);
        t.track(1, 100);
        t.track(1, 101);
        t.done(1, 100);
        t.done(1, 101);
        assertThat(t.committable()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 5L, 1, 102L));
    }

    @Test
    void gapsInOffsetsAreFine() {
        t.track(3, 7);
        t.track(3, 9); // 8 was e.g. a transaction marker
        t.done(3, 7);
        assertThat(t.committable(3)).hasValue(9);
        t.done(3, 9);
        assertThat(t.committable(3)).hasValue(10);
    }

    @Test
    void doneForUnknownOffsetsAndPartitionsIsIgnored() {
        t.track(0, 1);
        t.done(0, 99);
        t.done(4, 1);
        assertThat(t.committable(0)).hasValue(1);
    }

    @Test
    void startAtAnEmptyPartitionCommitsItsStart() {
        t.startAt(2, 40);
        assertThat(t.committable(2)).hasValue(40);
        t.track(2, 40);
        assertThat(t.committable(2)).hasValue(40);
        t.done(2, 40);
        assertThat(t.committable(2)).hasValue(41);
    }

    @Test
    void seekingBackStartsTheReplayedRangeAfresh() {
        t.track(0, 1);
        t.track(0, 2);
        t.track(0, 3);
        t.done(0, 1);
        t.track(0, 2); // re-read after a seek back
        assertThat(t.committable(0)).hasValue(2);
        assertThat(t.outstanding(0)).isEqualTo(1);
        t.done(0, 2);
        assertThat(t.committable(0)).hasValue(3);
    }

    @Test
    void forgottenPartitionsHaveNoState() {
        t.track(0, 1);
        t.track(1, 1);
        t.forget(List.of(0));
        assertThat(t.committable(0)).isEmpty();
        assertThat(t.committable(1)).hasValue(1);
    }

    @Test
    void refsCompressToRunsPerPartition() {
        List<OffsetRange> runs = OffsetRuns.of(List.of(new EventRef(1, 5), new EventRef(0, 3), new EventRef(1, 6),
            new EventRef(1, 8), new EventRef(0, 4), new EventRef(1, 7), new EventRef(1, 20)));
        assertThat(runs).extracting(r -> r.getPartition() + ":" + r.getFromOffset() + "-" + r.getToOffset())
            .containsExactly("0:3-4", "1:5-8", "1:20-20");
    }
}
