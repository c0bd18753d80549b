package io.rtbackup.worker.coalesce;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.CapturePosition;
import io.rtbackup.worker.route.RootKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicatedSinceTest {
    static final RootKey R = new RootKey("h", "r");

    static PathKey p(String s) {
        return PathKey.of(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The event the agent numbered {@code seq} in its first run. */
    static CapturePosition ev(long seq) {
        return new CapturePosition(1, seq);
    }

    /** A sync of the first run that started just before the agent numbered event {@code seq}. */
    static CapturePosition startedBefore(long seq) {
        return new CapturePosition(1, seq - 1);
    }

    @Test
    void onlyEventsNumberedBeforeTheSyncStartedAreCovered() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.paths(R, List.of(p("a"), p("b")), startedBefore(1000));
        assertThat(s.covers(R, p("a"), ev(999))).isTrue();
        assertThat(s.covers(R, p("a"), ev(1000))).as("numbered after the sync started").isFalse();
        assertThat(s.covers(R, p("a"), ev(1001))).isFalse();
        assertThat(s.covers(R, p("c"), ev(1))).isFalse();
        assertThat(s.covers(new RootKey("h", "other"), p("a"), ev(1))).isFalse();
        assertThat(s.covers(R, null, ev(1))).as("a whole-root event needs a full sync").isFalse();
        s.paths(R, List.of(p("a")), startedBefore(500)); // an older sync finishing late does not move the time back
        assertThat(s.covers(R, p("a"), ev(999))).isTrue();
    }

    @Test
    void aFullSyncCoversEveryPathOfItsRootAndUnknownPositionsCoverNothing() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.fullSync(R, startedBefore(2000));
        assertThat(s.covers(R, p("any/thing"), ev(1999))).isTrue();
        assertThat(s.covers(R, null, ev(1999))).isTrue();
        assertThat(s.covers(R, p("x"), ev(2000))).isFalse();
        ReplicatedSince v1 = new ReplicatedSince(10);
        v1.paths(R, List.of(p("a")), CapturePosition.UNKNOWN); // a result of an agent that does not report the start
        v1.fullSync(R, CapturePosition.UNKNOWN);
        assertThat(v1.covers(R, p("a"), ev(1))).isFalse();
    }

    @Test
    void aSyncOfADirectoryCoversWhatLiesUnderIt() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.paths(R, List.of(p("dir")), startedBefore(1000));
        assertThat(s.covers(R, p("dir/sub/file"), ev(999))).isTrue();
        assertThat(s.covers(R, p("dirx/file"), ev(999))).as("a sibling with a common prefix").isFalse();
        assertThat(s.covers(R, p("dir/sub/file"), ev(1000))).isFalse();
    }

    @Test
    void theLeastRecentlySyncedPathsAreForgotten() {
        ReplicatedSince s = new ReplicatedSince(2);
        s.paths(R, List.of(p("a")), startedBefore(10));
        s.paths(R, List.of(p("b")), startedBefore(10));
        s.paths(R, List.of(p("c")), startedBefore(10));
        assertThat(s.covers(R, p("a"), ev(1))).isFalse();
        assertThat(s.covers(R, p("b"), ev(1))).isTrue();
        assertThat(s.covers(R, p("c"), ev(1))).isTrue();
    }

    @Test
    void aSyncOfALaterAgentRunCoversEveryEarlierRunAndEventsOfUnknownOrderAreNeverCovered() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.paths(R, List.of(p("a")), new CapturePosition(2, 0)); // right after a restart, before any new event
        assertThat(s.covers(R, p("a"), ev(Long.MAX_VALUE))).isTrue();
        assertThat(s.covers(R, p("a"), new CapturePosition(2, 1))).isFalse();
        assertThat(s.covers(R, p("a"), CapturePosition.UNKNOWN)).as("an event of an older agent").isFalse();
        s.paths(R, List.of(p("a")), ev(1_000_000)); // a sync of the earlier run finishing late
        assertThat(s.covers(R, p("a"), ev(999))).isTrue();
        assertThat(s.covers(R, p("a"), new CapturePosition(2, 1))).as("the later run's position is kept").isFalse();
        s.fullSync(R, new CapturePosition(3, 0));
        assertThat(s.covers(R, null, new CapturePosition(2, 99))).isTrue();
    }
}
