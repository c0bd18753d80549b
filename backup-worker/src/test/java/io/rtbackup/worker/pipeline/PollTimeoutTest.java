package io.rtbackup.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How long the pipeline's poll may block ({@link PollTimeout#millis}): what a result waits for. */
class PollTimeoutTest {
    private static final long NEVER = Long.MAX_VALUE;
    private static final long MS = 1_000_000L;

    @Test
    void nothingDueAndNothingOutWaitsTheIdlePoll() {
        assertThat(PollTimeout.millis(0, NEVER, NEVER, false, false)).isEqualTo(20);
    }

    @Test
    void aResultAwaitedIsPickedUpWithinAFewMillisecondsEvenWithoutEvents() {
        // the result arrives on another thread; only the end of this poll lets the loop act on it
        assertThat(PollTimeout.millis(0, NEVER, NEVER, true, false))
            .isEqualTo(PollTimeout.AWAITING_RESULT_POLL_MS).isLessThanOrEqualTo(5);
    }

    @Test
    void aSignalAlreadyInTheInboxIsNotLeftWaitingForAPoll() {
        assertThat(PollTimeout.millis(0, NEVER, NEVER, true, true)).isZero();
    }

    @Test
    void theCoalescersNextCheckAndRetriesCutThePollShortRoundedUp() {
        assertThat(PollTimeout.millis(0, 3 * MS + 1, NEVER, false, false)).isEqualTo(4);
        assertThat(PollTimeout.millis(0, NEVER, 2 * MS, true, false)).isEqualTo(2);
        assertThat(PollTimeout.millis(10 * MS, 5 * MS, NEVER, false, false)).isZero();
    }
}
