package io.rtbackup.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ExitingFatalErrorHandlerTest {

    private final List<Integer> exits = new CopyOnWriteArrayList<>();
    private final List<Integer> halts = new CopyOnWriteArrayList<>();

    @Test
    void theFirstErrorExitsWithSeventyOnAnotherThreadAndLaterOnesDoNothing() {
        Thread caller = Thread.currentThread();
        List<Thread> exitThreads = new CopyOnWriteArrayList<>();
        ExitingFatalErrorHandler h = new ExitingFatalErrorHandler("test", Duration.ofMinutes(5), status -> {
            exitThreads.add(Thread.currentThread());
            exits.add(status);
        }, halts::add);

        h.fatal("component a", new IllegalStateException("boom"));
        h.fatal("component b", new IllegalStateException("again"));

        await().atMost(Duration.ofSeconds(5)).until(() -> exits.size() == 1);
        assertThat(exits).containsExactly(70);
        assertThat(exitThreads.get(0)).isNotSameAs(caller);
        assertThat(h.fired()).isTrue();
        assertThat(halts).isEmpty();
    }

    @Test
    void haltsWhenTheOrderlyExitDoesNotFinishInTime() {
        ExitingFatalErrorHandler h = new ExitingFatalErrorHandler("test", Duration.ofMillis(100), status -> {
            exits.add(status);
            // a shutdown hook that hangs
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, halts::add);

        h.fatal("component", new RuntimeException("boom"));

        await().atMost(Duration.ofSeconds(5)).until(() -> halts.size() == 1);
        assertThat(halts).containsExactly(70);
    }

    @Test
    void aGuardedBodyThatThrowsIsReportedAndOneThatReturnsIsNot() {
        List<String> reported = new CopyOnWriteArrayList<>();
        FatalErrorHandler h = (component, cause) -> reported.add(component + ": " + cause.getMessage());

        h.guard("quiet", () -> { }).run();
        h.guard("loud", () -> { throw new IllegalStateException("boom"); }).run();

        assertThat(reported).containsExactly("loud: boom");
    }
}
