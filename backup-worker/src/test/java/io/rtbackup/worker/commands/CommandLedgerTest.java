package io.rtbackup.worker.commands;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.Coalescer;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.config.BreakerSettings;
import io.rtbackup.worker.config.CoalesceSettings;
import io.rtbackup.worker.config.RetrySettings;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.resilience.DestinationGuard;
import io.rtbackup.worker.resilience.HostQuarantine;
import io.rtbackup.worker.route.RootKey;
import io.rtbackup.worker.transport.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The ledger with the real parts around it (a coalescer for batches, resilience4j behind the guard) on a fake
 * monotonic clock. Retry policy here: 3 attempts, 200 ms doubling up to 1 s; results due within 5 s (60 s for a
 * full sync).
 */
class CommandLedgerTest {
    private static final long MS = 1_000_000L;
    private static final RetrySettings RETRY = new RetrySettings(3, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    /** A breaker that never opens in these tests unless they say so. */
    private static final BreakerSettings CALM = new BreakerSettings(100f, 100, 100, Duration.ofSeconds(10), 1);

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final Coalescer coalescer = new Coalescer(new CoalesceSettings(Duration.ZERO, Duration.ofMillis(100), 100,
        1000, 0, 10), now::get);
    private DestinationGuard guard = new DestinationGuard("d", 100, RETRY, CALM, now::get);
    private CommandLedger ledger = ledger();
    private long offset;

    private CommandLedger ledger() {
        return new CommandLedger("d", guard, new HostQuarantine("d", RETRY, now::get), Duration.ofSeconds(5),
            Duration.ofSeconds(60), now::get);
    }

    /** A batch of one path of its own root, admitted by the guard like the pipeline does. */
    private Batch batch(String root) {
        RootKey key = new RootKey("h1", root);
        coalescer.offerPath(key, PathKey.of(("f" + offset).getBytes(StandardCharsets.UTF_8)), false,
            new EventRef(0, offset++), now.get());
        return coalescer.next(guard::tryAdmit).orElseThrow();
    }

    private Batch fullSyncBatch(String root) {
        coalescer.offerFullSync(new RootKey("h1", root), new EventRef(0, offset++), now.get());
        return coalescer.next(guard::tryAdmit).orElseThrow();
    }

    private Attempt send(CommandLedger.Next next) {
        SyncCommand cmd = SyncCommands.of(UUID.randomUUID().toString(), next, "d", "h1/" + next.batch().key().root(),
            "w1", 0);
        return ledger.sent(next, cmd);
    }

    private static SyncResult result(Attempt a, SyncOutcome outcome, String error) {
        return SyncResult.newBuilder()
            .setCommandId(a.commandId())
            .setHostId("h1")
            .setRootId(a.batch().key().root())
            .setDestination("d")
            .setReplyTo("w1")
            .setOutcome(outcome)
            .setExitCode(outcome == SyncOutcome.OK ? 0 : outcome == SyncOutcome.PARTIAL ? 23 : 10)
            .setDurationMs(5)
            .setError(error)
            .build();
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }

    @Test
    void okSyncsTheBatchAndALateDuplicateMeansNothing() {
        Batch b = batch("r");
        CommandLedger.Next first = ledger.first(b).orElseThrow();
        assertThat(first.attempt()).isEqualTo(1);
        Attempt a = send(first);
        assertThat(a.command().getAttempt()).isEqualTo(1);
        assertThat(ledger.inFlight()).isEqualTo(1);

        Verdict v = ledger.onResult(result(a, SyncOutcome.OK, null)).orElseThrow();
        assertThat(v).isInstanceOf(Verdict.Synced.class);
        assertThat(v.outcome()).isEqualTo("ok");
        assertThat(v.attempt()).isEqualTo(a);
        assertThat(ledger.isEmpty()).isTrue();
        assertThat(guard.availableSlots()).as("the bulkhead slot is released").isEqualTo(100);

        assertThat(ledger.onResult(result(a, SyncOutcome.OK, null))).as("duplicate").isEmpty();
        assertThat(ledger.onResult(result(a, SyncOutcome.FAILED, "late"))).isEmpty();
    }

    /**
     * Issue #16: a result (signed by its host, so it passed the result listener) that names another host than the
     * command's answers nothing: the command stays out, and its own host's result still counts.
     */
    @Test
    void aResultNamingAnotherHostThanTheCommandsAnswersNothing() {
        Attempt a = send(ledger.first(batch("r")).orElseThrow());
        SyncResult foreign = result(a, SyncOutcome.OK, null);
        foreign.setHostId("h2");
        assertThat(ledger.onResult(foreign)).isEmpty();
        assertThat(ledger.inFlight()).as("still out").isEqualTo(1);
        assertThat(ledger.onResult(result(a, SyncOutcome.OK, null))).get().isInstanceOf(Verdict.Synced.class);
    }

    @Test
    void aFailingDestinationIsRetriedWithBackoffAndNeverGivenUp() {
        Attempt a = send(ledger.first(batch("r")).orElseThrow());
        long[] expectedDelays = {200, 400, 1000, 1000, 1000};
        for (int i = 0; i < expectedDelays.length; i++) {
            Verdict v = ledger.onResult(result(a, SyncOutcome.FAILED, "connection refused")).orElseThrow();
            assertThat(v).isInstanceOf(Verdict.RetryLater.class);
            Verdict.RetryLater r = (Verdict.RetryLater) v;
            assertThat(r.outcome()).isEqualTo("failed");
            assertThat(r.why()).contains("connection refused");
            assertThat(r.delayMs()).as("delay after failure %d", i + 1).isEqualTo(expectedDelays[i]);
            assertThat(ledger.waitingForRetry()).isEqualTo(1);
            assertThat(ledger.nextRetryDueNs()).isEqualTo(now.get() + expectedDelays[i] * MS);

            advance(expectedDelays[i] - 1);
            assertThat(ledger.takeDueRetry()).as("not due yet").isEmpty();
            advance(1);
            CommandLedger.Next next = ledger.takeDueRetry().orElseThrow();
            assertThat(next.batch()).isSameAs(a.batch());
            assertThat(next.attempt()).isEqualTo(i + 2);
            a = send(next);
            assertThat(a.command().getAttempt()).isEqualTo(i + 2);
        }
        assertThat(ledger.onResult(result(a, SyncOutcome.OK, null)).orElseThrow()).isInstanceOf(Verdict.Synced.class);
        assertThat(ledger.isEmpty()).isTrue();
    }

    @Test
    void aPartialSyncIsRetriedThenGivenUpToTheDlq() {
        Attempt a = send(ledger.first(batch("r")).orElseThrow());
        for (int attempt = 1; attempt < RETRY.maxAttempts(); attempt++) {
            Verdict v = ledger.onResult(result(a, SyncOutcome.PARTIAL, "Permission denied")).orElseThrow();
            assertThat(v).isInstanceOf(Verdict.RetryLater.class);
            assertThat(v.outcome()).isEqualTo("partial");
            advance(((Verdict.RetryLater) v).delayMs());
            a = send(ledger.takeDueRetry().orElseThrow());
        }
        Verdict last = ledger.onResult(result(a, SyncOutcome.PARTIAL, "Permission denied")).orElseThrow();
        assertThat(last).isInstanceOf(Verdict.GiveUp.class);
        Verdict.GiveUp g = (Verdict.GiveUp) last;
        assertThat(g.deadLetterKind()).isEqualTo(DeadLetter.KIND_PARTIAL_COMMAND);
        assertThat(g.reason()).contains("still partial after 3 attempt(s)").contains("Permission denied");
        assertThat(g.attempt().number()).isEqualTo(3);
        assertThat(ledger.isEmpty()).isTrue();
    }

    @Test
    void aRejectedCommandIsGivenUpAtOnce() {
        Attempt a = send(ledger.first(batch("r")).orElseThrow());
        Verdict v = ledger.onResult(result(a, SyncOutcome.REJECTED, "unknown root 'r'")).orElseThrow();
        assertThat(v).isInstanceOf(Verdict.GiveUp.class);
        Verdict.GiveUp g = (Verdict.GiveUp) v;
        assertThat(g.outcome()).isEqualTo("rejected");
        assertThat(g.deadLetterKind()).isEqualTo(DeadLetter.KIND_REJECTED_COMMAND);
        assertThat(g.reason()).contains("rejected by the agent on h1").contains("unknown root 'r'");
        assertThat(ledger.isEmpty()).isTrue();
    }

    @Test
    void aMissingResultTimesOutAndIsRetriedAndItsLateResultIsIgnored() {
        Attempt paths = send(ledger.first(batch("r1")).orElseThrow());
        Attempt full = send(ledger.first(fullSyncBatch("r2")).orElseThrow());
        advance(4_999);
        assertThat(ledger.expire()).isEmpty();
        advance(1);
        List<Verdict> expired = ledger.expire();
        assertThat(expired).hasSize(1);
        assertThat(expired.get(0).attempt()).isEqualTo(paths);
        assertThat(expired.get(0).outcome()).isEqualTo("timeout");
        assertThat(((Verdict.RetryLater) expired.get(0)).why()).contains("no result within 5000 ms");
        assertThat(ledger.inFlight()).as("the full sync has a longer timeout").isEqualTo(1);
        assertThat(ledger.waitingForRetry()).isEqualTo(1);

        assertThat(ledger.onResult(result(paths, SyncOutcome.OK, null))).as("late result of the expired attempt").isEmpty();

        advance(55_000);
        assertThat(ledger.expire()).singleElement().satisfies(v -> assertThat(v.attempt()).isEqualTo(full));
    }

    @Test
    void aCommandKafkaDidNotTakeIsRetried() {
        Attempt a = send(ledger.first(batch("r")).orElseThrow());
        Verdict v = ledger.onSendFailed(a.commandId(), "not delivered to rtb.commands (timeout)").orElseThrow();
        assertThat(v).isInstanceOf(Verdict.RetryLater.class);
        assertThat(v.outcome()).isEqualTo("send_failed");
        assertThat(((Verdict.RetryLater) v).why()).isEqualTo("not delivered to rtb.commands (timeout)");
        assertThat(ledger.onSendFailed("no-such-command", "x")).isEmpty();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void aSuccessBringsForwardRetriesThatWaitForTheDestinationButNotSourceSidePartials() {
        guard = new DestinationGuard("d", 100,
            new RetrySettings(10, Duration.ofSeconds(10), 2.0, Duration.ofSeconds(60)), CALM, now::get);
        ledger = ledger();
        Attempt down = send(ledger.first(batch("r1")).orElseThrow());
        Attempt partial = send(ledger.first(batch("r2")).orElseThrow());
        Attempt ok = send(ledger.first(batch("r3")).orElseThrow());
        ledger.onResult(result(down, SyncOutcome.FAILED, "no route to host"));
        ledger.onResult(result(partial, SyncOutcome.PARTIAL, "Permission denied"));
        advance(1);
        assertThat(ledger.takeDueRetry()).isEmpty();

        ledger.onResult(result(ok, SyncOutcome.OK, null));
        CommandLedger.Next next = ledger.takeDueRetry().orElseThrow();
        assertThat(next.batch()).isSameAs(down.batch());
        assertThat(ledger.takeDueRetry()).as("the partial waits for its own backoff").isEmpty();
        assertThat(ledger.nextRetryDueNs()).isEqualTo(now.get() - 1 * MS + 10_000 * MS);
    }

    /**
     * Issue #18: a batch that failed through an outage reached the maximum backoff (30 s by default). Once the
     * destination answers, that history is the outage's: a failure right after (a daemon still starting, a flapping
     * link) is retried after the initial backoff. Before, it waited the full 30 s with the breaker closed again, so
     * nothing probed the destination meanwhile.
     */
    @Test
    void aBatchThatFailedThroughAnOutageBacksOffFromTheStartOnceTheDestinationAnswers() {
        guard = new DestinationGuard("d", 100, new RetrySettings(3, Duration.ofMillis(200), 2.0, Duration.ofSeconds(30)),
            CALM, now::get);
        ledger = ledger();
        Attempt a = send(ledger.first(batch("r1")).orElseThrow());
        Attempt other = send(ledger.first(batch("r2")).orElseThrow());
        for (long expected : new long[] {200, 400, 30_000}) {
            Verdict.RetryLater r = (Verdict.RetryLater) ledger.onResult(result(a, SyncOutcome.FAILED, "refused"))
                .orElseThrow();
            assertThat(r.delayMs()).as("during the outage").isEqualTo(expected);
            if (expected == 30_000) break;
            advance(expected);
            a = send(ledger.takeDueRetry().orElseThrow());
        }

        advance(100);
        ledger.onResult(result(other, SyncOutcome.OK, null));
        a = send(ledger.takeDueRetry().orElseThrow());
        Verdict.RetryLater again = (Verdict.RetryLater) ledger.onResult(result(a, SyncOutcome.FAILED, "refused"))
            .orElseThrow();
        assertThat(again.delayMs()).as("first failure after the destination answered").isEqualTo(200);
        advance(200);
        assertThat(ledger.takeDueRetry()).as("due after the initial backoff").isPresent();
    }

    @Test
    void anOpenBreakerHoldsRetriesAndHalfOpenProbesWithTheOldestAtOnce() {
        guard = new DestinationGuard("d", 100, new RetrySettings(10, Duration.ofSeconds(30), 2.0, Duration.ofSeconds(60)),
            new BreakerSettings(50f, 2, 2, Duration.ofSeconds(1), 1), now::get);
        ledger = ledger();
        Attempt first = send(ledger.first(batch("r1")).orElseThrow());
        Attempt second = send(ledger.first(batch("r2")).orElseThrow());
        ledger.onResult(result(first, SyncOutcome.FAILED, "down"));
        advance(1);
        ledger.onResult(result(second, SyncOutcome.FAILED, "down"));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);

        advance(999);
        guard.tick();
        assertThat(ledger.takeDueRetry()).as("open: nothing goes out").isEmpty();
        advance(1);
        guard.tick();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        Optional<CommandLedger.Next> probe = ledger.takeDueRetry();
        assertThat(probe).as("the oldest retry is the probe, 29 s before its backoff ends").isPresent();
        assertThat(probe.get().batch()).isSameAs(first.batch());
        assertThat(ledger.takeDueRetry()).as("one probe allowed").isEmpty();

        Attempt p = send(probe.get());
        ledger.onResult(result(p, SyncOutcome.OK, null));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(ledger.takeDueRetry().orElseThrow().batch()).as("the destination answered").isSameAs(second.batch());
    }
}
