package io.rtbackup.worker.coalesce;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.CapturePosition;
import io.rtbackup.worker.config.CoalesceSettings;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.route.RootKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CoalescerTest {
    private static final long MS = 1_000_000L;
    private static final RootKey H1 = new RootKey("h1", "data");
    private static final RootKey H2 = new RootKey("h2", "data");

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private long offset;
    // The path-level rules (blocking, absorbing, dropping) are tested with room for several commands per root;
    // the per-root limit (default 1) has tests of its own.
    private Coalescer c = coalescer(100, 1000, 1000, 10);

    private Coalescer coalescer(long debounceMs, long maxDelayMs, int batchMax) {
        return coalescer(debounceMs, maxDelayMs, batchMax, CoalesceSettings.DEFAULT_MAX_IN_FLIGHT_PER_ROOT);
    }

    private Coalescer coalescer(long debounceMs, long maxDelayMs, int batchMax, int maxInFlightPerRoot) {
        return new Coalescer(new CoalesceSettings(Duration.ofMillis(debounceMs), Duration.ofMillis(maxDelayMs), batchMax,
            Math.max(batchMax, 100_000), 5000, maxInFlightPerRoot), now::get);
    }

    private static PathKey p(String s) {
        return PathKey.of(s.getBytes(StandardCharsets.UTF_8));
    }

    private EventRef change(RootKey key, String path) {
        EventRef ref = new EventRef(0, offset++);
        c.offerPath(key, p(path), false, ref, now.get());
        return ref;
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }

    private Optional<Batch> next() {
        return c.next(() -> true);
    }

    private List<Batch> drain() {
        List<Batch> out = new ArrayList<>();
        for (Optional<Batch> b = next(); b.isPresent(); b = next()) out.add(b.get());
        return out;
    }

    private static List<String> paths(Batch b) {
        return b.paths().stream().map(PathKey::show).toList();
    }

    /** An event the agent numbered {@code seq} in its first incarnation. */
    private EventRef published(RootKey key, String path, boolean directory, long seq) {
        return published(key, path, directory, new CapturePosition(1, seq));
    }

    private EventRef published(RootKey key, String path, boolean directory, CapturePosition position) {
        EventRef ref = new EventRef(0, offset++);
        c.offerPath(key, p(path), directory, ref, now.get(), position);
        return ref;
    }

    @Test
    void aSteadyStreamOfNewPathsBatchesBehindTheRootsRunningCommands() {
        c = coalescer(100, 1000, 1000, 2);
        change(H1, "a");
        Batch first = next().orElseThrow();
        change(H1, "b");
        Batch second = next().orElseThrow();
        assertThat(paths(first)).containsExactly("a");
        assertThat(paths(second)).containsExactly("b");
        // Two commands of h1 run (the limit): new paths wait, however long, instead of one command each.
        change(H1, "c");
        change(H1, "d");
        change(H1, "e");
        advance(5000);
        assertThat(next()).isEmpty();
        assertThat(c.nextCheckNanos()).isEqualTo(Long.MAX_VALUE);
        // Another root is not held back by h1's.
        change(H2, "x");
        assertThat(next()).map(CoalescerTest::paths).contains(List.of("x"));
        // One finishes: everything that waited goes out together, in one command.
        c.finish(first.id());
        assertThat(c.nextCheckNanos()).isLessThanOrEqualTo(now.get());
        List<Batch> out = drain();
        assertThat(out).hasSize(1);
        assertThat(paths(out.get(0))).containsExactly("c", "d", "e");
    }

    @Test
    void byDefaultOneCommandPerRootRunsAndEverythingElseWaitsForIt() {
        c = coalescer(100, 1000, 1000);
        change(H1, "a");
        Batch first = next().orElseThrow();
        change(H1, "b");
        assertThat(next()).isEmpty();
        c.finish(first.id());
        assertThat(next()).map(CoalescerTest::paths).contains(List.of("b"));
    }

    @Test
    void changesQueuedBehindASyncThatWerePublishedBeforeItStartedAreDropped() {
        published(H1, "dir", true, 100);
        Batch first = next().orElseThrow();
        // Read while the sync runs: the same directory, a file under it, an unrelated file; one published later.
        EventRef again = published(H1, "dir", true, 150);
        EventRef under = published(H1, "dir/file", false, 160);
        published(H1, "other", false, 170);
        published(H1, "dir/late", false, 400);
        c.finish(first.id());
        assertThat(c.dropCovered(H1, first.paths(), new CapturePosition(1, 300))).containsExactlyInAnyOrder(again, under);
        advance(2000);
        assertThat(drain()).flatExtracting(CoalescerTest::paths).containsExactlyInAnyOrder("other", "dir/late");
    }

    @Test
    void aSyncOfALaterAgentRunDropsEveryPendingChangeOfAnEarlierRunButNoneOfItsOwnLaterOnes() {
        published(H1, "dir", true, 100);
        Batch first = next().orElseThrow();
        EventRef earlierRun = published(H1, "dir/a", false, 5_000);
        published(H1, "dir/b", false, new CapturePosition(2, 8));
        c.finish(first.id());
        assertThat(c.dropCovered(H1, first.paths(), new CapturePosition(2, 7))).containsExactly(earlierRun);
        advance(2000);
        assertThat(drain()).flatExtracting(CoalescerTest::paths).containsExactly("dir/b");
    }

    @Test
    void aFullSyncDropsEveryOlderPendingChangeOfItsRootAndUnknownTimesAreKept() {
        c.offerFullSync(H1, new EventRef(0, offset++), now.get(), new CapturePosition(1, 100));
        Batch full = next().orElseThrow();
        EventRef old = published(H1, "a", false, 150);
        published(H1, "b", false, CapturePosition.UNKNOWN);
        published(H2, "c", false, 150);
        c.finish(full.id());
        assertThat(c.dropCovered(H1, null, new CapturePosition(1, 300))).containsExactly(old);
        advance(2000);
        assertThat(drain()).flatExtracting(CoalescerTest::paths).containsExactlyInAnyOrder("b", "c");
    }

    @Test
    void idlePathGoesOutAtOnce() {
        EventRef ref = change(H1, "a/file");
        Batch b = next().orElseThrow();
        assertThat(paths(b)).containsExactly("a/file");
        assertThat(b.refs()).containsExactly(ref);
        assertThat(b.fullSync()).isFalse();
        assertThat(next()).isEmpty();
    }

    @Test
    void changesToOnePathInOnePollCoalesce() {
        change(H1, "f");
        change(H1, "f");
        change(H1, "f");
        Batch b = next().orElseThrow();
        assertThat(paths(b)).containsExactly("f");
        assertThat(b.eventCount()).isEqualTo(3);
        assertThat(b.refs()).hasSize(3);
    }

    @Test
    void pathInFlightIsNotIssuedAgainUntilFinishedThenItsMergedChangeGoesOut() {
        change(H1, "f");
        Batch first = next().orElseThrow();
        change(H1, "f");
        advance(10);
        change(H1, "f");
        advance(500); // quiet far longer than the debounce, but still in flight
        assertThat(next()).isEmpty();
        c.finish(first.id());
        Batch second = next().orElseThrow();
        assertThat(paths(second)).containsExactly("f");
        assertThat(second.eventCount()).isEqualTo(2);
    }

    @Test
    void pendingChangeWaitsForTheDebounceAfterItsLastEvent() {
        change(H1, "f");
        Batch first = next().orElseThrow();
        c.finish(first.id());
        // f was issued 0 ms ago: it is being written, not idle, so its next change is not leading.
        change(H1, "f");
        advance(50);
        assertThat(next()).as("quiet for 50 ms < debounce").isEmpty();
        change(H1, "f"); // restarts the debounce
        advance(99);
        assertThat(next()).isEmpty();
        advance(1);
        assertThat(next()).hasValueSatisfying(b -> assertThat(b.eventCount()).isEqualTo(2));
    }

    @Test
    void aPathIsIdleAgainOnceTheMaxDelayHasPassedSinceItWasIssued() {
        change(H1, "f");
        c.finish(next().orElseThrow().id());
        advance(999);
        change(H1, "f");
        assertThat(next()).as("issued 999 ms ago: still hot").isEmpty();
        c = coalescer(100, 1000, 1000, 10);
        change(H1, "g");
        c.finish(next().orElseThrow().id());
        advance(1000);
        change(H1, "g");
        Batch again = next().orElseThrow(() -> new AssertionError("issued 1 s ago: idle, so leading edge"));
        assertThat(paths(again)).containsExactly("g");
        c.finish(again.id());
        assertThat(c.nextCheckNanos()).as("looked at again when g's issue expires").isLessThan(Long.MAX_VALUE);
        advance(2000);
        assertThat(next()).isEmpty();
        assertThat(c.nextCheckNanos()).as("the root is forgotten once idle").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void constantWritesGoOutAfterTheMaxDelay() {
        change(H1, "hot");
        Batch first = next().orElseThrow();
        c.finish(first.id());
        long pendingSince = now.get();
        change(H1, "hot"); // just synced: waits, although nothing is in flight
        // A write every 50 ms: never quiet for 100 ms.
        Batch second = null;
        while (second == null) {
            advance(50);
            change(H1, "hot");
            second = next().orElse(null);
            assertThat(now.get() - pendingSince).isLessThanOrEqualTo(1000 * MS);
        }
        assertThat(now.get() - pendingSince).isEqualTo(1000 * MS);
        assertThat(second.eventCount()).isEqualTo(21);
    }

    @Test
    void nextCheckTellsWhenSomethingBecomesReady() {
        assertThat(c.nextCheckNanos()).isEqualTo(Long.MAX_VALUE);
        change(H1, "f");
        Batch b = next().orElseThrow();
        change(H1, "f");
        assertThat(next()).isEmpty();
        assertThat(c.nextCheckNanos()).as("blocked by the in-flight command: nothing to wait for").isEqualTo(Long.MAX_VALUE);
        c.finish(b.id());
        assertThat(c.nextCheckNanos()).isLessThanOrEqualTo(now.get());
        assertThat(next()).isEmpty();
        assertThat(c.nextCheckNanos()).isEqualTo(now.get() + 100 * MS);
    }

    @Test
    void batchesArePerHostAndRootAndCapped() {
        c = coalescer(100, 1000, 3, 10); // no per-root in-flight limit in play here
        for (int i = 0; i < 7; i++) change(H1, "f" + i);
        change(H2, "g");
        List<Batch> batches = drain();
        assertThat(batches).hasSize(4);
        assertThat(batches).allSatisfy(b -> assertThat(b.paths().size()).isLessThanOrEqualTo(3));
        assertThat(batches.stream().filter(b -> b.key().equals(H2)).toList()).singleElement()
            .satisfies(b -> assertThat(paths(b)).containsExactly("g"));
        assertThat(batches.stream().filter(b -> b.key().equals(H1)).mapToInt(b -> b.paths().size()).sum()).isEqualTo(7);
    }

    @Test
    void capFlushesIssuablePathsThatAreNotDueYet() {
        c = coalescer(100, 1000, 2, 10);
        for (String f : List.of("d/1", "d/2", "d/3")) change(H1, f);
        for (Batch x : drain()) c.finish(x.id());
        // all three were just issued: their next changes wait for quiet
        for (String f : List.of("d/1", "d/2", "d/3")) change(H1, f);
        Batch b = next().orElseThrow();
        assertThat(paths(b)).containsExactly("d/1", "d/2");
        assertThat(next()).as("one left, below the cap and not quiet").isEmpty();
        advance(100);
        assertThat(next()).hasValueSatisfying(x -> assertThat(paths(x)).containsExactly("d/3"));
    }

    /**
     * Issue #18 (churn): a new path that only had to wait for a conflicting command (its directory in flight) is not
     * being written: it goes out as soon as that command finishes, in the batch that goes then, not a debounce
     * later and so a whole command after it. Paths issued within the max delay still wait for quiet.
     */
    @Test
    void aPathThatOnlyWaitedForAConflictInFlightGoesOutWithTheNextBatch() {
        c = coalescer(100, 1000, 1000);
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        Batch dir = next().orElseThrow();
        change(H1, "x");
        change(H1, "d/new");
        advance(30);
        assertThat(next()).as("one command per root").isEmpty();
        c.finish(dir.id());
        assertThat(next()).hasValueSatisfying(b -> assertThat(paths(b)).containsExactlyInAnyOrder("x", "d/new"));
    }

    /**
     * Issue #18 (fan-out): the probe of a returning destination carries its root's backlog, up to the batch cap,
     * except what conflicts with a command in flight; other roots keep theirs.
     */
    @Test
    void aProbeCarriesTheBacklogOfItsRootThatMayGoNow() {
        c = coalescer(100, 1000, 3);
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        Batch probe = next().orElseThrow();
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        change(H1, "d/x");
        change(H1, "b");
        change(H1, "c");
        change(H1, "e");
        change(H2, "z");
        assertThat(c.pendingCount()).isEqualTo(6);

        Batch widened = c.widen(probe.id());
        assertThat(widened).isSameAs(probe);
        assertThat(paths(widened)).as("its own path's change, then the backlog up to the cap of 3")
            .containsExactly("d", "b", "c");
        assertThat(widened.eventCount()).isEqualTo(4);
        assertThat(c.pendingCount()).as("d/x (under d, in flight), e (over the cap), h2's z").isEqualTo(3);
        assertThat(next()).map(CoalescerTest::paths).as("h2 is another root").contains(List.of("z"));
        assertThat(next()).as("h1's root is still busy with the probe").isEmpty();
        change(H1, "b");
        assertThat(c.widen(probe.id()).eventCount()).as("b is in flight now: its new change rides along").isEqualTo(5);
        c.finish(probe.id());
        advance(100);
        assertThat(next()).map(CoalescerTest::paths).contains(List.of("d/x", "e"));
    }

    @Test
    void directoryInFlightBlocksDescendantsAndViceVersa() {
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        Batch dir = next().orElseThrow();
        change(H1, "d/sub/f");
        change(H1, "other");
        List<Batch> out = drain();
        assertThat(out).singleElement().satisfies(b -> assertThat(paths(b)).containsExactly("other"));
        c.finish(dir.id());
        change(H1, "e/f");
        Batch ef = drain().stream().filter(b -> paths(b).contains("e/f")).findFirst().orElseThrow();
        c.offerPath(H1, p("e"), true, new EventRef(0, offset++), now.get());
        assertThat(drain()).as("directory e waits for its descendant e/f in flight").isEmpty();
        c.finish(ef.id());
        advance(100);
        assertThat(drain()).anySatisfy(b -> assertThat(paths(b)).contains("e"));
    }

    @Test
    void rescanOfSubtreeAbsorbsPendingPathsBelowIt() {
        change(H1, "x");
        Batch x = next().orElseThrow();
        // Make everything below non-leading by blocking with a tree in flight on 'd'.
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        Batch d = next().orElseThrow();
        change(H1, "d/a");
        change(H1, "d/b/c");
        change(H1, "e");
        c.offerSubtree(H1, p("d"), new EventRef(0, offset++), now.get());
        change(H1, "d/later"); // absorbed by the pending rescan
        c.finish(x.id());
        c.finish(d.id());
        advance(100);
        List<Batch> out = drain();
        List<String> all = out.stream().flatMap(b -> paths(b).stream()).toList();
        assertThat(all).containsExactlyInAnyOrder("d", "e");
        // d/a, d/b/c, the rescan and d/later ride on 'd'; 'e' is the fifth event (same root, same batch).
        assertThat(out).singleElement().satisfies(b -> assertThat(b.eventCount()).isEqualTo(5));
        assertThat(c.pendingCount()).isZero();
    }

    @Test
    void rootRescanAbsorbsEverythingPendingAndBecomesAFullSync() {
        change(H1, "a");
        Batch a = next().orElseThrow();
        change(H1, "a");
        change(H1, "b");
        EventRef rescan = new EventRef(0, offset++);
        c.offerSubtree(H1, PathKey.ROOT, rescan, now.get());
        change(H1, "c"); // absorbed too: the full sync runs later
        assertThat(c.pendingCount()).isEqualTo(1);
        assertThat(next()).as("full sync waits for the root's in-flight command").isEmpty();
        c.finish(a.id());
        advance(100);
        Batch full = next().orElseThrow();
        assertThat(full.fullSync()).isTrue();
        assertThat(full.paths()).isEmpty();
        assertThat(full.eventCount()).isEqualTo(4);
        assertThat(full.refs()).contains(rescan);
        change(H1, "d");
        assertThat(drain()).as("a running full sync blocks its whole root").isEmpty();
        change(H2, "other-host");
        assertThat(drain()).singleElement().satisfies(b -> assertThat(b.key()).isEqualTo(H2));
        c.finish(full.id());
        advance(100);
        assertThat(drain()).singleElement().satisfies(b -> assertThat(paths(b)).containsExactly("d"));
    }

    @Test
    void overflowOfIdleRootGoesOutAtOnce() {
        c.offerFullSync(H1, new EventRef(3, 7), now.get());
        Batch full = next().orElseThrow();
        assertThat(full.fullSync()).isTrue();
        assertThat(full.refs()).containsExactly(new EventRef(3, 7));
    }

    @Test
    void admissionDenialChangesNothing() {
        change(H1, "f");
        assertThat(c.next(() -> false)).isEmpty();
        assertThat(c.pendingCount()).isEqualTo(1);
        assertThat(c.inFlightCount()).isZero();
        assertThat(next()).isPresent();
    }

    @Test
    void retryAbsorbsNewerChangesOfItsPaths() {
        change(H1, "f");
        Batch b = next().orElseThrow();
        change(H1, "f");
        change(H1, "g");
        Batch retried = c.absorbPendingInto(b.id());
        assertThat(retried.eventCount()).isEqualTo(2);
        assertThat(c.pendingCount()).isEqualTo(1); // g still pending
    }

    @Test
    void revokedPartitionsAreForgotten() {
        c.offerPath(H1, p("d"), true, new EventRef(0, offset++), now.get());
        Batch d = next().orElseThrow();
        c.offerPath(H1, p("d/x"), false, new EventRef(1, 10), now.get());
        c.offerPath(H1, p("d/y"), false, new EventRef(1, 11), now.get());
        c.offerPath(H1, p("d/y"), false, new EventRef(2, 5), now.get());
        c.dropPartitions(part -> part == 1);
        assertThat(c.pendingCount()).isEqualTo(1);
        c.dropPartitions(part -> part == 0);
        assertThat(d.refs()).isEmpty();
        c.finish(d.id());
        advance(100);
        Batch y = next().orElseThrow();
        assertThat(paths(y)).containsExactly("d/y");
        assertThat(y.refs()).containsExactly(new EventRef(2, 5));
    }

    @Test
    void rootsAreServedRoundRobin() {
        c = coalescer(100, 1000, 1, 10);
        for (int i = 0; i < 3; i++) {
            change(H1, "a" + i);
            change(H2, "b" + i);
        }
        List<RootKey> order = drain().stream().map(Batch::key).toList();
        assertThat(order).hasSize(6);
        for (int i = 1; i < order.size(); i++) assertThat(order.get(i)).isNotEqualTo(order.get(i - 1));
    }

    @Test
    void pathsAreNormalisedAndValidated() {
        assertThat(PathKey.of("a//b/".getBytes(StandardCharsets.UTF_8)).show()).isEqualTo("a/b");
        assertThat(PathKey.problem("/etc/passwd".getBytes(StandardCharsets.UTF_8))).contains("absolute");
        assertThat(PathKey.problem("a/../../etc".getBytes(StandardCharsets.UTF_8))).contains("'..'");
        assertThat(PathKey.problem(new byte[] {'a', 0, 'b'})).contains("NUL");
        assertThat(PathKey.problem(new byte[] {'n', (byte) 0xff, (byte) 0xfe})).isNull();
        assertThat(PathKey.of(new byte[] {'n', (byte) 0xff}).show()).isEqualTo("n\\xff");
        assertThat(p("a/b/c").isStrictlyUnder(p("a/b"))).isTrue();
        assertThat(p("a/bc").isStrictlyUnder(p("a/b"))).isFalse();
        assertThat(p("a").isStrictlyUnder(PathKey.ROOT)).isTrue();
    }
}
