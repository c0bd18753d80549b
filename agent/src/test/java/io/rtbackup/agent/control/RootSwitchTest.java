package io.rtbackup.agent.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.agent.state.PauseLedger;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The switch against its ledger in a real directory, with capture, catch-up and the state sink recorded. */
class RootSwitchTest {
    @TempDir
    Path state;

    private final List<Set<String>> watched = new ArrayList<>();
    private final List<String> rescans = new ArrayList<>();
    private final List<String> caughtUp = new ArrayList<>();
    private final List<RootControlState> states = new ArrayList<>();
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    private List<Reconciliation> catchUpResult = List.of();

    @AfterEach
    void noPartGaveUp() {
        fatal.assertNone();
    }

    private RootSwitch newSwitch() {
        CaptureSwitch capture = new CaptureSwitch() {
            @Override
            public void watchAllBut(Set<String> paused) {
                watched.add(Set.copyOf(paused));
            }

            @Override
            public void rescan(String rootId, String why) {
                rescans.add(rootId);
            }
        };
        StateSink sink = new StateSink() {
            @Override
            public void publish(RootControlState s) {
                states.add(s);
            }

            @Override
            public void close() {
            }
        };
        return new RootSwitch("h1", List.of("docs", "photos"), PauseLedger.load(state), capture, root -> {
            caughtUp.add(root);
            return catchUpResult;
        }, sink, Clock.fixed(Instant.ofEpochMilli(5000), ZoneOffset.UTC), fatal);
    }

    private static ControlCommand cmd(String id, ControlAction action, String reason, long at) {
        return ControlCommand.newBuilder().setCommandId(id).setHostId("h1").setRootId("docs").setAction(action)
            .setReason(reason).setIssuedBy("ops@admin").setIssuedAtMs(at).build();
    }

    private static Reconciliation run(String dest, SyncOutcome outcome, long differences) {
        return new Reconciliation("r-" + dest, "docs", dest, "h1/docs", outcome, outcome == SyncOutcome.OK ? 0 : 10,
            differences, 100, Duration.ofMillis(5), outcome == SyncOutcome.OK ? Optional.empty()
            : Optional.of("connection refused"));
    }

    @Test
    void aPauseStopsCaptureAndHoldsCommandsOnceAndSurvivesARestart() {
        RootSwitch s = newSwitch();
        assertThat(s.why("docs")).isEmpty();

        s.apply(cmd("c1", ControlAction.PAUSE, "disk swap", 1000));
        assertThat(watched).containsExactly(Set.of("docs"));
        assertThat(s.why("docs")).hasValueSatisfying(w -> assertThat(w).contains("paused since 1970-01-01T00:00:01Z")
            .contains("ops@admin").contains("disk swap"));
        assertThat(s.why("photos")).isEmpty();
        assertThat(states).singleElement().satisfies(st -> {
            assertThat(st.getPaused()).isTrue();
            assertThat(st.getSinceMs()).isEqualTo(1000);
            assertThat(st.getAppliedCommandId()).isEqualTo("c1");
            assertThat(st.getReason()).isEqualTo("disk swap");
        });

        // The same command read again (every start re-reads the topic) changes nothing.
        s.apply(cmd("c1", ControlAction.PAUSE, "disk swap", 1000));
        assertThat(states).hasSize(1);
        // A second pause keeps when it began and takes the new reason.
        s.apply(cmd("c2", ControlAction.PAUSE, "still swapping", 2000));
        assertThat(states.get(1).getSinceMs()).isEqualTo(1000);
        assertThat(states.get(1).getReason()).isEqualTo("still swapping");

        // After a restart the stored pause holds from the start.
        RootSwitch restarted = newSwitch();
        assertThat(restarted.paused()).containsExactly("docs");
        assertThat(restarted.why("docs")).isPresent();
        restarted.publishAll();
        assertThat(states.subList(2, 4)).extracting(RootControlState::getRootId, RootControlState::getPaused)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("docs", true),
                org.assertj.core.groups.Tuple.tuple("photos", false));
        assertThat(caughtUp).isEmpty();
    }

    @Test
    void aResumeWatchesAgainThenCatchesUpAndSaysHowMuch() {
        RootSwitch s = newSwitch();
        s.apply(cmd("c1", ControlAction.PAUSE, "", 1000));
        catchUpResult = List.of(run("d1", SyncOutcome.OK, 2), run("d2", SyncOutcome.OK, 1));

        s.apply(cmd("c2", ControlAction.RESUME, "", 3000));
        assertThat(watched).containsExactly(Set.of("docs"), Set.of());
        assertThat(s.why("docs")).isEmpty();
        assertThat(caughtUp).containsExactly("docs");
        RootControlState last = states.get(states.size() - 1);
        assertThat(last.getPaused()).isFalse();
        assertThat(last.getAppliedCommandId()).isEqualTo("c2");
        assertThat(last.getNote()).isEqualTo("resumed: caught up 3 changed path(s) in 2 replica tree(s)");
        assertThat(rescans).isEmpty();

        // Resuming an active root catches nothing up.
        s.apply(cmd("c3", ControlAction.RESUME, "", 4000));
        assertThat(caughtUp).containsExactly("docs");
        assertThat(states.get(states.size() - 1).getNote()).contains("was not paused");
    }

    @Test
    void aCatchUpThatFailsBecomesARescanOfTheRoot() {
        RootSwitch s = newSwitch();
        s.apply(cmd("c1", ControlAction.PAUSE, "", 1000));
        catchUpResult = List.of(run("d1", SyncOutcome.OK, 1), run("d2", SyncOutcome.FAILED, 0));

        s.apply(cmd("c2", ControlAction.RESUME, "", 3000));
        assertThat(rescans).containsExactly("docs");
        assertThat(states.get(states.size() - 1).getNote()).contains("caught up 1 changed path(s)")
            .contains("1 failed").contains("connection refused").contains("a rescan of the root follows");
    }
}
