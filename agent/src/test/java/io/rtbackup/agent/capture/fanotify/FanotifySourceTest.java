package io.rtbackup.agent.capture.fanotify;

import static io.rtbackup.agent.capture.CaptureScenario.at;
import static io.rtbackup.agent.capture.CaptureScenario.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.capture.CaptureScenario;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.TempDirs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** fanotify on this machine's kernel (the tests run as root). */
class FanotifySourceTest {

    @Test
    void everyOperationOnHostileNamesYieldsItsEvents() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-fan-ops");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), FanotifySource::new,
                        Duration.ofSeconds(10))) {
            s.runOperations();
        }
    }

    @Test
    void aDirectoryRenamedWhileFilesUnderItChangeIsFollowed() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-fan-ren");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), FanotifySource::new,
                        Duration.ofSeconds(10))) {
            s.renameDirectoryWhileFilesChange(Duration.ofMillis(600));
        }
    }

    @Test
    void changesOutsideTheRootAreNotReportedButTheRootItselfIs() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-fan-out")) {
            byte[] root = tmp.newDir("root");
            byte[] sibling = tmp.newDir("root-sibling");
            try (CaptureScenario s = new CaptureScenario(root, FanotifySource::new, Duration.ofSeconds(10))) {
                int m = s.mark();
                ByteFs.write(BytePaths.join(sibling, b("outside")), b("x"));
                ByteFs.write(BytePaths.join(root, b("inside")), b("x"));
                int inside = s.await(m, "create inside", at(b("inside"), FileOp.CREATE));
                assertThat(s.eventsSince(m).subList(0, inside - m))
                        .noneMatch(e -> new String(e.path()).contains("outside"));
                int m2 = s.mark();
                ByteFs.chmod(root, 0750);
                s.await(m2, "chmod of the root itself", at(new byte[0], FileOp.ATTRIB));
            }
        }
    }

    @Test
    void aStalledReaderOverflowsTheKernelQueueAndGetsARescan() throws Exception {
        // no read-ahead: the thread that reads the kernel queue is the one stalled in delivery
        try (TempDirs tmp = TempDirs.create("rtb-fan-ovf");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), f -> new FanotifySource(1024, 0, f),
                        Duration.ofSeconds(30))) {
            s.stormWhileStalled(20_000);
        }
    }

    @Test
    void aStalledProcessorOverflowsTheReadAheadAndGetsARescan() throws Exception {
        // the kernel queue keeps being drained; the bounded user-space buffer is what overflows
        try (TempDirs tmp = TempDirs.create("rtb-fan-ovf2");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), f -> new FanotifySource(1024, 64 * 1024, f),
                        Duration.ofSeconds(30))) {
            s.stormWhileStalled(20_000);
            assertThat(s.source()).isInstanceOf(FanotifySource.class);
        }
    }

    @Test
    void aChangeThePipelineRejectsBecomesARescanOfItsDirectory() throws Exception {
        CaptureScenario.aRejectedChangeBecomesARescanOfItsDirectory(FanotifySource::new, source -> { },
                Duration.ofSeconds(10));
    }
}
