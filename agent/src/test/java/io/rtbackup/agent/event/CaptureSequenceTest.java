package io.rtbackup.agent.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.CapturePosition;
import org.junit.jupiter.api.Test;

class CaptureSequenceTest {
    @Test
    void aPositionReadBeforeAnEventIsNumberedNeverCoversIt() {
        CaptureSequence s = new CaptureSequence(9);
        CapturePosition beforeAny = s.assignedSoFar();
        long first = s.next();
        CapturePosition afterFirst = s.assignedSoFar();
        long second = s.next();
        assertThat(first).isEqualTo(1);
        assertThat(beforeAny.covers(new CapturePosition(9, first))).isFalse();
        assertThat(afterFirst.covers(new CapturePosition(9, first))).isTrue();
        assertThat(afterFirst.covers(new CapturePosition(9, second))).isFalse();
        assertThat(new CaptureSequence(10).assignedSoFar().covers(new CapturePosition(9, second)))
            .as("the next run covers this one").isTrue();
    }

    @Test
    void withoutAnIncarnationNothingItStampsCounts() {
        CaptureSequence s = CaptureSequence.unknown();
        s.next();
        assertThat(s.assignedSoFar()).isEqualTo(CapturePosition.UNKNOWN);
    }
}
