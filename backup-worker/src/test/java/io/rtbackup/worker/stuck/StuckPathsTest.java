package io.rtbackup.worker.stuck;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.route.RootKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Stuck paths on fake clocks: which events they hold, when they are due, when they leave. */
class StuckPathsTest {
    private static final long S = 1_000_000_000L;
    private static final RootKey KEY = new RootKey("h1", "r");

    private final AtomicLong nanos = new AtomicLong(10 * S);
    private final List<EventRef> released = new ArrayList<>();
    private final StuckPaths stuck = new StuckPaths("d", Duration.ofSeconds(60), nanos::get, () -> 1_000L,
        released::add);

    private static PathKey p(String s) {
        return PathKey.of(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aStuckPathHoldsItsEventsUntilASyncOfItOrAnAncestorSucceeds() {
        EventRef e1 = new EventRef(0, 5);
        EventRef e2 = new EventRef(1, 7);
        stuck.stuck(KEY, Map.of(p("d/a"), "Permission denied (13)"), x -> List.of(e1, e2));
        assertThat(stuck.holds(e1)).isTrue();
        assertThat(stuck.snapshot()).containsExactly(
            new StuckPaths.View("h1", "r", p("d/a"), "Permission denied (13)", 1_000L, 1));
        assertThat(stuck.counts()).containsEntry(KEY, 1);

        // A sync of something else, or one that found it stuck again, does not release it.
        stuck.resolved(KEY, List.of(p("other")), Set.of());
        stuck.resolved(KEY, List.of(p("d")), Set.of(p("d/a")));
        assertThat(released).isEmpty();
        // Its directory turned unreadable as a whole: it did not arrive either.
        stuck.resolved(KEY, List.of(p("d")), Set.of(p("d")));
        assertThat(released).isEmpty();
        // A sync of its directory that did not report it: it arrived (or is gone).
        stuck.resolved(KEY, List.of(p("d")), Set.of());
        assertThat(released).containsExactlyInAnyOrder(e1, e2);
        assertThat(stuck.isEmpty()).isTrue();
    }

    @Test
    void eventsHeldByTwoStuckPathsAreReleasedWithTheLast() {
        EventRef e = new EventRef(0, 1);
        stuck.stuck(KEY, Map.of(p("a"), "x", p("b"), "y"), x -> List.of(e));
        stuck.resolved(KEY, List.of(p("a")), Set.of());
        assertThat(released).isEmpty();
        assertThat(stuck.holds(e)).isTrue();
        stuck.resolved(KEY, null, Set.of()); // a full sync of the root
        assertThat(released).containsExactly(e);
    }

    @Test
    void retriesAreDueOncePerInterval() {
        stuck.stuck(KEY, Map.of(p("a"), "x"), x -> List.of(new EventRef(0, 1)));
        assertThat(stuck.due()).isEmpty();
        assertThat(stuck.nextDueNs()).isEqualTo(70 * S);
        nanos.set(70 * S);
        assertThat(stuck.due()).containsExactly(new StuckPaths.Due(KEY, p("a")));
        assertThat(stuck.due()).isEmpty();
        nanos.set(130 * S);
        assertThat(stuck.due()).hasSize(1);
        // Reported stuck again: attempts count up, the reason is the latest.
        stuck.stuck(KEY, Map.of(p("a"), "y"), x -> List.of());
        assertThat(stuck.snapshot().get(0).attempts()).isEqualTo(2);
        assertThat(stuck.snapshot().get(0).reason()).isEqualTo("y");
    }

    @Test
    void aRevokedPartitionTakesItsStuckPathsAlongWithoutReleasingThem() {
        stuck.stuck(KEY, Map.of(p("a"), "x"), x -> List.of(new EventRef(3, 1)));
        stuck.stuck(KEY, Map.of(p("b"), "x"), x -> List.of(new EventRef(4, 1)));
        stuck.dropPartitions(part -> part == 3);
        assertThat(stuck.snapshot()).extracting(StuckPaths.View::path).containsExactly(p("b"));
        assertThat(released).isEmpty(); // the new owner reads them again; nothing is committed here
    }
}
