package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.SyncOutcome;
import org.junit.jupiter.api.Test;

class RsyncExitTest {

    @Test
    void exitCodesMapToOutcomes() {
        assertThat(RsyncExit.outcome(0)).isEqualTo(SyncOutcome.OK);
        assertThat(RsyncExit.outcome(23)).isEqualTo(SyncOutcome.PARTIAL);
        assertThat(RsyncExit.outcome(24)).isEqualTo(SyncOutcome.PARTIAL);
        for (int failed : new int[] {1, 5, 10, 11, 12, 30, 35}) {
            assertThat(RsyncExit.outcome(failed)).as("exit %d", failed).isEqualTo(SyncOutcome.FAILED);
        }
        assertThat(RsyncExit.describe(5)).contains("authentication");
    }

    @Test
    void everyDocumentedCodeHasAMeaningAndOthersAreUnknown() {
        for (int code : new int[] {0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 25, 30, 35}) {
            assertThat(RsyncExit.describe(code)).as("exit %d", code).isNotEqualTo("unknown exit code");
        }
        assertThat(RsyncExit.describe(10)).contains("reachable");
        assertThat(RsyncExit.describe(35)).contains("daemon connection");
        assertThat(RsyncExit.describe(7)).isEqualTo("unknown exit code");
        assertThat(RsyncExit.describe(-1)).isEqualTo("unknown exit code");
        assertThat(RsyncExit.outcome(-1)).isEqualTo(SyncOutcome.FAILED);
        assertThat(RsyncExit.outcome(143)).as("killed by SIGTERM").isEqualTo(SyncOutcome.FAILED);
    }

    @Test
    void aLostMkpathRaceIsExitElevenWithEexistOnMkdir() {
        String eexist = "rsync: [Receiver] mkdir \"/m/p/h/r\" failed: File exists (17)";
        assertThat(RsyncExit.isMkpathRace(11, "rsync exit 11 (error in file I/O): " + eexist)).isTrue();
        assertThat(RsyncExit.isMkpathRace(11, "rsync: write failed on \"/m/f\": No space left on device (28)"))
            .isFalse();
        assertThat(RsyncExit.isMkpathRace(23, eexist)).as("another exit code").isFalse();
    }

    @Test
    void aMissingSourceDirectoryIsExitTwentyThreeWithEnoent() {
        String enoent = "rsync: [sender] change_dir \"/.rtb-versions/h/r\" (in m) failed: No such file or directory (2)";
        assertThat(RsyncExit.isMissingSource(23, enoent)).isTrue();
        assertThat(RsyncExit.isMissingSource(23, "rsync: send_files failed to open \"f\": Permission denied (13)"))
            .isFalse();
        assertThat(RsyncExit.isMissingSource(5, enoent)).isFalse();
    }
}
