package io.rtbackup.worker.commands;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.StuckPath;
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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What a PARTIAL result means, by the end the agent says failed (SyncResult v4), with a real coalescer and
 * resilience4j behind the guard on a fake clock: 3 attempts, 200 ms doubling to 1 s; a breaker that opens at half
 * of at least 2 calls.
 */
class PartialResultSidesTest {
    private static final long MS = 1_000_000L;
    private static final RetrySettings RETRY = new RetrySettings(3, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    private static final BreakerSettings TOUCHY = new BreakerSettings(50f, 4, 2, Duration.ofSeconds(10), 1);

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final Coalescer coalescer = new Coalescer(new CoalesceSettings(Duration.ZERO, Duration.ofMillis(100), 100,
        1000, 0, 10), now::get);
    private final DestinationGuard guard = new DestinationGuard("d", 100, RETRY, TOUCHY, now::get);
    private final CommandLedger ledger = new CommandLedger("d", guard, new HostQuarantine("d", RETRY, now::get),
        Duration.ofSeconds(5), Duration.ofSeconds(60), now::get);
    private long offset;

    private Attempt sendNew(String path) {
        coalescer.offerPath(new RootKey("h1", "r"), PathKey.of(path.getBytes(StandardCharsets.UTF_8)), false,
            new EventRef(0, offset++), now.get());
        Batch b = coalescer.next(guard::tryAdmit).orElseThrow();
        return send(ledger.first(b).orElseThrow());
    }

    private Attempt send(CommandLedger.Next next) {
        SyncCommand cmd = SyncCommands.of(UUID.randomUUID().toString(), next, "d", "h1/r", "w1", 0);
        return ledger.sent(next, cmd);
    }

    private static SyncResult partial(Attempt a, FailureSide side, byte[]... stuck) {
        return SyncResult.newBuilder().setCommandId(a.commandId()).setHostId("h1").setRootId("r").setDestination("d")
            .setReplyTo("w1").setOutcome(SyncOutcome.PARTIAL).setExitCode(23).setDurationMs(5)
            .setError("rsync exit 23").setFailureSide(side)
            .setStuckPaths(java.util.Arrays.stream(stuck)
                .map(p -> new StuckPath(ByteBuffer.wrap(p), "send_files failed to open: Permission denied (13)"))
                .toList())
            .build();
    }

    @Test
    void aPartialTheDestinationFailedIsRetriedForeverAndOpensItsBreaker() {
        Attempt a = sendNew("f");
        Verdict v = ledger.onResult(partial(a, FailureSide.DESTINATION)).orElseThrow();
        for (int i = 0; i < 6; i++) {
            assertThat(v).isInstanceOf(Verdict.RetryLater.class);
            assertThat(v.outcome()).as("a failed attempt of the destination").isEqualTo("failed");
            assertThat(((Verdict.RetryLater) v).why()).contains("failed on the destination");
            now.addAndGet(((Verdict.RetryLater) v).delayMs() * MS);
            if (guard.breakerState() != CircuitBreaker.State.CLOSED) break;
            a = send(ledger.takeDueRetry().orElseThrow());
            v = ledger.onResult(partial(a, FailureSide.DESTINATION)).orElseThrow();
        }
        // Past the retry policy's attempts it is still retried, never given up: and the breaker counted it.
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(ledger.waitingForRetry()).isEqualTo(1);
    }

    @Test
    void unreadableSourcePathsMakeTheRestOfTheBatchDone() {
        Attempt a = sendNew("dir");
        Verdict v = ledger.onResult(partial(a, FailureSide.SOURCE, "dir/x\n\u00ff".getBytes(StandardCharsets.ISO_8859_1)))
            .orElseThrow();
        assertThat(v).isInstanceOf(Verdict.Stuck.class);
        assertThat(v.outcome()).isEqualTo("stuck");
        assertThat(((Verdict.Stuck) v).paths()).containsOnlyKeys(
            PathKey.of("dir/x\n\u00ff".getBytes(StandardCharsets.ISO_8859_1)));
        assertThat(((Verdict.Stuck) v).paths().values()).containsExactly(
            "send_files failed to open: Permission denied (13)");
        assertThat(ledger.isEmpty()).isTrue();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void aStuckPathNoEventMayNameIsReadLikeAnUnclassifiedPartial() {
        Attempt a = sendNew("f");
        Verdict v = ledger.onResult(partial(a, FailureSide.SOURCE, "../x".getBytes(StandardCharsets.US_ASCII)))
            .orElseThrow();
        assertThat(v).isInstanceOf(Verdict.RetryLater.class);
    }

    @Test
    void anAgentThatDoesNotSayWhichEndFailedIsTreatedAsBefore() {
        Attempt a = sendNew("f");
        Verdict last = null;
        for (int i = 0; i < 3; i++) {
            last = ledger.onResult(partial(a, FailureSide.UNKNOWN)).orElseThrow();
            if (!(last instanceof Verdict.RetryLater r)) break;
            now.addAndGet(r.delayMs() * MS);
            a = send(ledger.takeDueRetry().orElseThrow());
        }
        assertThat(last).isInstanceOf(Verdict.GiveUp.class);
        assertThat(((Verdict.GiveUp) last).deadLetterKind()).isEqualTo(DeadLetter.KIND_PARTIAL_COMMAND);
        assertThat(List.of(guard.breakerState())).containsExactly(CircuitBreaker.State.CLOSED);
    }
}
