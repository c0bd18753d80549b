package io.rtbackup.worker.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.rtbackup.worker.config.BreakerSettings;
import io.rtbackup.worker.config.RetrySettings;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The breaker's open wait: short at first, doubling per failed probe up to its maximum, reset by a success; a host's
 * share of the bulkhead.
 */
class DestinationGuardTest {
    private static final long MS = 1_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final DestinationGuard guard = new DestinationGuard("d", 4, RetrySettings.defaults(),
        new BreakerSettings(50f, 2, 2, Duration.ofMillis(500), Duration.ofMillis(3000), 1), now::get);

    @Test
    void aHostHoldsAtMostItsCapAndNeverMoreThanHalfTheSlots() {
        RetrySettings r = RetrySettings.defaults();
        BreakerSettings b = BreakerSettings.defaults();
        assertThat(new DestinationGuard("d", 64, 4, r, b, now::get).perHostSlots()).isEqualTo(4);
        assertThat(new DestinationGuard("d", 64, 4, r, b, now::get).slots()).isEqualTo(64);
        assertThat(new DestinationGuard("d", 4, 4, r, b, now::get).perHostSlots()).as("half of 4").isEqualTo(2);
        assertThat(new DestinationGuard("d", 5, 4, r, b, now::get).perHostSlots()).as("half of 5, rounded up")
            .isEqualTo(3);
        assertThat(new DestinationGuard("d", 1, 4, r, b, now::get).perHostSlots()).isEqualTo(1);
        assertThat(guard.perHostSlots()).as("no cap: half").isEqualTo(2);
    }

    @Test
    void theOpenWaitDoublesWithEachFailedProbeUpToItsMaximum() {
        failTwice();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        for (long expected : new long[] {500, 1000, 2000, 3000, 3000}) {
            assertThat(guard.openWait()).isEqualTo(Duration.ofMillis(expected));
            advance(expected - 1);
            guard.tick();
            assertThat(guard.breakerState()).as("still open 1 ms before %d ms", expected).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(guard.tryAdmit()).as("no command while open").isFalse();
            advance(1);
            guard.tick();
            assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
            assertThat(guard.tryAdmit()).as("the probe").isTrue();
            assertThat(guard.tryAdmit()).as("one probe only").isFalse();
            guard.destinationFailed(5, "still down");
            assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        }
    }

    @Test
    void aSuccessfulProbeClosesTheBreakerAndTheNextOpeningWaitsTheShortTimeAgain() {
        failTwice();
        advance(500);
        guard.tick();
        assertThat(guard.tryAdmit()).isTrue();
        guard.destinationFailed(5, "still down");
        assertThat(guard.openWait()).isEqualTo(Duration.ofMillis(1000));
        advance(1000);
        guard.tick();
        assertThat(guard.tryAdmit()).isTrue();
        guard.succeeded(5);
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);

        failTwice();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(guard.openWait()).isEqualTo(Duration.ofMillis(500));
        advance(500);
        guard.tick();
        assertThat(guard.breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    }

    @Test
    void defaultsProbeADeadDestinationEverySecondAsLsyncdRetries() {
        // Issue #18: lsyncd retries a failed rsync after 1 s, so a destination that comes back waits 0.5 s on
        // average for it; with a probe every 4 s it waited 2 s here.
        BreakerSettings d = BreakerSettings.defaults();
        assertThat(d.openWait(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(d.openWait(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(d.openWait(4)).isEqualTo(Duration.ofSeconds(1));
        assertThat(d.openWait(40)).isEqualTo(Duration.ofSeconds(1));
        assertThat(new BreakerSettings(50f, 10, 3, Duration.ofSeconds(60), 1).openWait(3))
            .as("a configured wait longer than the default maximum stays as it is").isEqualTo(Duration.ofSeconds(60));
    }

    private void failTwice() {
        for (int i = 0; i < 2; i++) {
            assertThat(guard.tryAdmit()).isTrue();
            guard.destinationFailed(5, "down");
        }
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }
}
