package io.rtbackup.worker.coalesce;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.worker.route.RootKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicatedSinceTest {
    static final RootKey R = new RootKey("h", "r");

    static PathKey p(String s) {
        return PathKey.of(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void onlyEventsPublishedStrictlyBeforeTheSyncStartedAreCovered() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.paths(R, List.of(p("a"), p("b")), 1000);
        assertThat(s.covers(R, p("a"), 999)).isTrue();
        assertThat(s.covers(R, p("a"), 1000)).as("same millisecond").isFalse();
        assertThat(s.covers(R, p("a"), 1001)).isFalse();
        assertThat(s.covers(R, p("c"), 1)).isFalse();
        assertThat(s.covers(new RootKey("h", "other"), p("a"), 1)).isFalse();
        assertThat(s.covers(R, null, 1)).as("a whole-root event needs a full sync").isFalse();
        s.paths(R, List.of(p("a")), 500); // an older sync finishing late does not move the time back
        assertThat(s.covers(R, p("a"), 999)).isTrue();
    }

    @Test
    void aFullSyncCoversEveryPathOfItsRootAndUnknownTimesCoverNothing() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.fullSync(R, 2000);
        assertThat(s.covers(R, p("any/thing"), 1999)).isTrue();
        assertThat(s.covers(R, null, 1999)).isTrue();
        assertThat(s.covers(R, p("x"), 2000)).isFalse();
        ReplicatedSince v1 = new ReplicatedSince(10);
        v1.paths(R, List.of(p("a")), 0); // a result of an agent that does not report the start
        v1.fullSync(R, 0);
        assertThat(v1.covers(R, p("a"), 1)).isFalse();
    }

    @Test
    void aSyncOfADirectoryCoversWhatLiesUnderIt() {
        ReplicatedSince s = new ReplicatedSince(10);
        s.paths(R, List.of(p("dir")), 1000);
        assertThat(s.covers(R, p("dir/sub/file"), 999)).isTrue();
        assertThat(s.covers(R, p("dirx/file"), 999)).as("a sibling with a common prefix").isFalse();
        assertThat(s.covers(R, p("dir/sub/file"), 1000)).isFalse();
    }

    @Test
    void theLeastRecentlySyncedPathsAreForgotten() {
        ReplicatedSince s = new ReplicatedSince(2);
        s.paths(R, List.of(p("a")), 10);
        s.paths(R, List.of(p("b")), 10);
        s.paths(R, List.of(p("c")), 10);
        assertThat(s.covers(R, p("a"), 1)).isFalse();
        assertThat(s.covers(R, p("b"), 1)).isTrue();
        assertThat(s.covers(R, p("c"), 1)).isTrue();
    }
}
