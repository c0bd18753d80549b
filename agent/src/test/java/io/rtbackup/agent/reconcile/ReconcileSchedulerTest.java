package io.rtbackup.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.exec.RsyncRunner.ReplicatedTree;
import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The schedule alone, on a hand-moved monotonic clock; what a run does is {@link ReconcilerTest}'s subject. */
class ReconcileSchedulerTest {
    private static final Duration DAY = Duration.ofHours(24);
    private final AtomicLong nanos = new AtomicLong(-5_000_000_000L); // monotonic clocks may start anywhere
    private final List<ReplicatedTree> trees = new ArrayList<>();
    private final List<ReplicatedTree> ran = new ArrayList<>();

    private ReconcileScheduler scheduler(String host, ReconcileConfig config) {
        return new ReconcileScheduler(host, config, () -> List.copyOf(trees), t -> {
            ran.add(t);
            return new Reconciliation("r", t.rootId(), t.destination(), t.remoteDir(), SyncOutcome.OK, 0, 0, 0,
                Duration.ZERO, Optional.empty());
        }, nanos::get);
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void eachTreeRunsOnceAtItsPhaseAndThenAboutDailyWithinTheJitter() {
        ReconcileScheduler s = scheduler("h1", new ReconcileConfig(DAY, 0.1));
        ReplicatedTree t = new ReplicatedTree("data", "dc2", "h1/data");
        trees.add(t);
        assertThat(s.runDue()).isEmpty();
        Duration phase = s.phase(t);
        assertThat(phase).isBetween(Duration.ZERO, DAY);

        advance(phase.minusSeconds(1));
        assertThat(s.runDue()).isEmpty();
        advance(Duration.ofSeconds(1));
        assertThat(s.runDue()).hasSize(1);
        assertThat(s.runDue()).as("not again right away").isEmpty();

        Duration next = s.next(t, 1);
        assertThat(next).isBetween(Duration.ofHours(24 - 3), Duration.ofHours(24 + 3));
        assertThat(s.untilNext()).isEqualTo(ReconcileScheduler.POLL);
        advance(next.minusSeconds(1));
        assertThat(s.untilNext()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.runDue()).isEmpty();
        advance(Duration.ofSeconds(1));
        assertThat(s.runDue()).hasSize(1);
        assertThat(ran).containsExactly(t, t);
    }

    @Test
    void aFleetSpreadsOverTheIntervalAndTheJitterVariesFromRunToRun() {
        List<Duration> phases = new ArrayList<>();
        ReplicatedTree t = new ReplicatedTree("data", "dc2", "x");
        for (int i = 0; i < 200; i++) phases.add(scheduler("host-" + i, new ReconcileConfig(DAY, 0.1)).phase(t));
        // with 200 hosts every quarter of the day gets some; none is due in the same minute as most others
        for (int q = 0; q < 4; q++) {
            Duration from = DAY.dividedBy(4).multipliedBy(q);
            Duration to = from.plus(DAY.dividedBy(4));
            assertThat(phases.stream().filter(p -> p.compareTo(from) >= 0 && p.compareTo(to) < 0).count())
                .isBetween(25L, 75L);
        }
        ReconcileScheduler s = scheduler("h1", new ReconcileConfig(DAY, 0.1));
        assertThat(s.phase(t)).as("the same on every start")
            .isEqualTo(scheduler("h1", ReconcileConfig.DEFAULT).phase(t));
        assertThat(List.of(s.next(t, 1), s.next(t, 2), s.next(t, 3))).doesNotHaveDuplicates();
        assertThat(scheduler("h1", new ReconcileConfig(DAY, 0)).next(t, 7)).isEqualTo(DAY);
    }

    @Test
    void treesComeAndGoWithWhatTheExecutorRanAndZeroTurnsItOff() {
        ReconcileScheduler s = scheduler("h1", new ReconcileConfig(DAY, 0));
        ReplicatedTree a = new ReplicatedTree("a", "dc2", "h1/a");
        ReplicatedTree b = new ReplicatedTree("b", "dc2", "h1/b");
        trees.add(a);
        s.runDue();
        advance(DAY);
        assertThat(s.runDue()).extracting(Reconciliation::rootId).containsExactly("a");
        trees.add(b);
        assertThat(s.runDue()).as("b's phase has not passed yet").isEmpty();
        advance(DAY);
        assertThat(s.runDue()).extracting(Reconciliation::rootId).containsExactly("a", "b");
        trees.remove(a);
        advance(DAY);
        assertThat(s.runDue()).extracting(Reconciliation::rootId).containsExactly("b");
        assertThat(ran).containsExactly(a, a, b, b);

        ReconcileScheduler off = scheduler("h1", new ReconcileConfig(Duration.ZERO, 0.1));
        advance(DAY.multipliedBy(3));
        assertThat(off.runDue()).isEmpty();
        advance(DAY.multipliedBy(3));
        assertThat(off.runDue()).isEmpty();
        assertThat(ran).hasSize(4);

        // on demand: every tree now, also with the schedule off; the schedule then counts from this run
        assertThat(off.runAllNow()).extracting(Reconciliation::rootId).containsExactly("b");
        assertThat(s.runAllNow()).extracting(Reconciliation::rootId).containsExactly("b");
        advance(DAY.minusSeconds(1));
        assertThat(s.runDue()).isEmpty();
        advance(Duration.ofSeconds(1));
        assertThat(s.runDue()).extracting(Reconciliation::rootId).containsExactly("b");
    }
}
