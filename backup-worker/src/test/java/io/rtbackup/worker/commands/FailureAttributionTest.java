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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Who a failure counts against: the ledger with a real coalescer, resilience4j behind the guard and the host
 * quarantine, on a fake clock. The breaker here is touchy (opens at 50% of 2 calls, probes after 1 s); retries and
 * host backoff: 200 ms doubling up to 1 s; results due within 5 s.
 */
class FailureAttributionTest {
    private static final long MS = 1_000_000L;
    private static final RetrySettings RETRY = new RetrySettings(3, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    private static final BreakerSettings TOUCHY = new BreakerSettings(50f, 2, 2, Duration.ofSeconds(1), 1);

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final Coalescer coalescer = new Coalescer(new CoalesceSettings(Duration.ZERO, Duration.ofMillis(100), 100,
        1000, 0, 10), now::get);
    private final DestinationGuard guard = new DestinationGuard("d", 4, RETRY, TOUCHY, now::get);
    private final CommandLedger ledger = new CommandLedger("d", guard, new HostQuarantine("d", RETRY, now::get),
        Duration.ofSeconds(5), Duration.ofSeconds(60), now::get);
    private long offset;

    /** A ready batch of one path of {@code host}:{@code root}, admitted by the guard like the pipeline does. */
    private Batch batch(String host, String root) {
        coalescer.offerPath(new RootKey(host, root), PathKey.of(("f" + offset).getBytes(StandardCharsets.UTF_8)), false,
            new EventRef(0, offset++), now.get());
        return coalescer.next(guard::tryAdmit).orElseThrow();
    }

    private Attempt send(CommandLedger.Next next) {
        SyncCommand cmd = SyncCommands.of(UUID.randomUUID().toString(), next, "d",
            next.batch().key().host() + "/" + next.batch().key().root(), "w1", 0);
        return ledger.sent(next, cmd);
    }

    private Attempt sendNew(String host, String root) {
        return send(ledger.first(batch(host, root)).orElseThrow());
    }

    private static SyncResult result(Attempt a, SyncOutcome outcome, int exitCode, String error) {
        return SyncResult.newBuilder()
            .setCommandId(a.commandId())
            .setHostId(a.batch().key().host())
            .setRootId(a.batch().key().root())
            .setDestination("d")
            .setReplyTo("w1")
            .setOutcome(outcome)
            .setExitCode(exitCode)
            .setDurationMs(5)
            .setError(error)
            .build();
    }

    private static SyncResult ok(Attempt a) {
        return result(a, SyncOutcome.OK, 0, null);
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }

    private boolean quarantined(String host) {
        return ledger.quarantinedHosts().stream().anyMatch(q -> q.host().equals(host));
    }

    @Test
    void theExitCodeSaysWhoseFaultAFailedResultIs() {
        Attempt a = sendNew("h1", "r");
        for (int code : new int[] {5, 10, 11, 12, 30, 35}) {
            assertThat(FailureOwner.of(result(a, SyncOutcome.FAILED, code, "x"))).as("exit %d", code)
                .isEqualTo(FailureOwner.DESTINATION);
        }
        for (int code : new int[] {-1, 1, 2, 3, 13, 14, 20, 22}) {
            assertThat(FailureOwner.of(result(a, SyncOutcome.FAILED, code, "x"))).as("exit %d", code)
                .isEqualTo(FailureOwner.HOST);
        }
    }

    @Test
    void silentHostsNeverOpenTheBreakerAndTheirSlotsAreFreedAtTheTimeout() {
        Attempt dead1 = sendNew("dead", "r1");
        Attempt dead2 = sendNew("dead", "r2");
        assertThat(guard.availableSlots()).isEqualTo(2);
        advance(5_000);
        assertThat(ledger.expire()).hasSize(2).allSatisfy(v -> assertThat(v.outcome()).isEqualTo("timeout"));
        assertThat(guard.breakerState()).as("two timeouts of two calls, yet not the destination's")
            .isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(guard.availableSlots()).as("the silent host holds no slot").isEqualTo(4);
        assertThat(ledger.quarantinedHosts()).singleElement().satisfies(q -> {
            assertThat(q.host()).isEqualTo("dead");
            assertThat(q.failures()).as("both were out when the host went silent: one failure").isEqualTo(1);
            assertThat(q.reason()).contains("no result within 5000 ms");
        });

        // Another host goes on at once, with every slot.
        Attempt live = sendNew("live", "r");
        assertThat(ledger.onResult(ok(live)).orElseThrow()).isInstanceOf(Verdict.Synced.class);

        // The silent host: one command at a time, after its backoff.
        assertThat(ledger.takeDueRetry()).isEmpty();
        advance(200);
        CommandLedger.Next probe = ledger.takeDueRetry().orElseThrow();
        assertThat(probe.batch()).isIn(dead1.batch(), dead2.batch());
        Attempt p = send(probe);
        assertThat(ledger.takeDueRetry()).as("one command of a quarantined host at a time").isEmpty();
        assertThat(ledger.nextRetryDueNs()).as("nothing to wake up for until its result").isEqualTo(Long.MAX_VALUE);
        advance(5_000);
        assertThat(ledger.expire()).singleElement().satisfies(v ->
            assertThat(((Verdict.RetryLater) v).delayMs()).as("the host's backoff grows").isEqualTo(400));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);

        // It answers: quarantine lifted, its other batch goes too.
        advance(400);
        CommandLedger.Next again = ledger.takeDueRetry().orElseThrow();
        p = send(again);
        assertThat(ledger.onResult(ok(p)).orElseThrow()).isInstanceOf(Verdict.Synced.class);
        assertThat(quarantined("dead")).isFalse();
        assertThat(ledger.takeDueRetry().orElseThrow().batch()).isIn(dead1.batch(), dead2.batch())
            .isNotSameAs(again.batch());
    }

    @Test
    void aHostThatAnswersGetsWhatWaitedForItOutAtOnce() {
        Attempt first = sendNew("slow", "r1");
        advance(1_000);
        Attempt second = sendNew("slow", "r2");
        advance(4_000);
        assertThat(ledger.expire()).singleElement().satisfies(v -> assertThat(v.attempt()).isEqualTo(first));
        assertThat(quarantined("slow")).isTrue();
        advance(10);
        assertThat(ledger.takeDueRetry()).as("its backoff is not over").isEmpty();
        ledger.onResult(ok(second));
        assertThat(quarantined("slow")).isFalse();
        assertThat(ledger.takeDueRetry().orElseThrow().batch()).as("190 ms before its backoff ended")
            .isSameAs(first.batch());
    }

    @Test
    void anExpiredCommandIsTheHostsFaultAndItsAnswerLiftsTheQuarantine() {
        Attempt ahead1 = sendNew("clock-ahead", "r1");
        Attempt ahead2 = sendNew("clock-ahead", "r2");
        Verdict v = ledger.onResult(result(ahead1, SyncOutcome.FAILED, -1,
            "command expired: issued 900 s ago, more than command.max-age-s=600; reissue it")).orElseThrow();
        assertThat(v).isInstanceOf(Verdict.RetryLater.class);
        assertThat(((Verdict.RetryLater) v).why()).contains("failed on host clock-ahead").contains("command expired");
        ledger.onResult(result(ahead2, SyncOutcome.FAILED, -1, "command expired"));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(quarantined("clock-ahead")).isTrue();
        assertThat(ledger.quarantinedHosts().get(0).failures()).isEqualTo(1);

        // A new batch of the quarantined host waits with its others.
        Batch parked = batch("clock-ahead", "r3");
        assertThat(ledger.first(parked)).isEmpty();
        assertThat(guard.availableSlots()).as("the parked batch gave its slot back").isEqualTo(4);
        assertThat(ledger.waitingForRetry()).isEqualTo(3);

        advance(200);
        Attempt fixed = send(ledger.takeDueRetry().orElseThrow());
        ledger.onResult(ok(fixed));
        assertThat(ledger.quarantinedHosts()).isEmpty();
        assertThat(ledger.takeDueRetry()).isPresent();
        assertThat(ledger.takeDueRetry()).as("and the other").isPresent();
    }

    @Test
    void failuresOfTheDestinationOpenItsBreakerWhateverTheHost() {
        Attempt a = sendNew("h1", "r");
        Attempt b = sendNew("h2", "r");
        ledger.onResult(result(a, SyncOutcome.FAILED, 10, "connection refused"));
        ledger.onResult(result(b, SyncOutcome.FAILED, 5, "auth failed"));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(ledger.quarantinedHosts()).as("the hosts did their part").isEmpty();
    }

    @Test
    void theHalfOpenProbeIsABatchOfAHostThatAnswers() {
        Attempt dead = sendNew("dead", "r");
        advance(5_000);
        ledger.expire();
        advance(1_000); // the dead host's retry is long due: the oldest waiting batch
        Attempt a = sendNew("live", "r1");
        Attempt b = sendNew("live", "r2");
        ledger.onResult(result(a, SyncOutcome.FAILED, 10, "connection refused"));
        ledger.onResult(result(b, SyncOutcome.FAILED, 10, "connection refused"));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);

        advance(1_000);
        guard.tick();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        Optional<CommandLedger.Next> probe = ledger.takeDueRetry();
        assertThat(probe).isPresent();
        assertThat(probe.get().batch()).as("not the dead host's older batch").isSameAs(a.batch());
        assertThat(ledger.takeDueRetry()).as("one probe").isEmpty();
        Attempt p = send(probe.get());
        ledger.onResult(ok(p));
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(ledger.takeDueRetry().orElseThrow().batch()).isIn(dead.batch(), b.batch());
    }

    @Test
    void aHostHoldsAtMostHalfTheSlotsAndItsNextBatchGoesWhenOneEnds() {
        Attempt h1 = sendNew("busy", "r1");
        sendNew("busy", "r2");
        Batch third = batch("busy", "r3");
        assertThat(ledger.first(third)).as("2 of 4 slots are the host's share").isEmpty();
        assertThat(ledger.nextRetryDueNs()).isEqualTo(Long.MAX_VALUE);
        Attempt other = sendNew("other", "r");
        assertThat(ledger.inFlight()).isEqualTo(3);

        assertThat(ledger.takeDueRetry()).isEmpty();
        ledger.onResult(ok(h1));
        assertThat(ledger.nextRetryDueNs()).isLessThanOrEqualTo(now.get());
        CommandLedger.Next next = ledger.takeDueRetry().orElseThrow();
        assertThat(next.batch()).isSameAs(third);
        assertThat(next.attempt()).as("a parked batch was never sent").isEqualTo(1);
        assertThat(ledger.onResult(ok(other))).isPresent();
    }
}
