package io.rtbackup.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.CaptureConfig.SourceChoice;
import org.junit.jupiter.api.Test;

/** The host check for an explicitly chosen source (the tests run as root, where fanotify is permitted). */
class CaptureSelectionTest {

    @Test
    void asRootNoChosenSourceIsRuledOutBeforeItStarts() {
        for (SourceChoice choice : SourceChoice.values()) {
            assertThat(CaptureSelection.unusable(choice)).as(choice.key()).isEmpty();
        }
    }
}
