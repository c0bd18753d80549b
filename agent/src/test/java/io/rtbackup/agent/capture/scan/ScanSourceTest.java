package io.rtbackup.agent.capture.scan;

import io.rtbackup.agent.capture.CaptureScenario;
import io.rtbackup.testkit.TempDirs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The polling scan on a real tree. */
class ScanSourceTest {

    private static CaptureScenario scenario(TempDirs tmp) throws Exception {
        CaptureScenario s = new CaptureScenario(tmp.newDir("root"), f -> new ScanSource(Duration.ofMillis(30), f),
                Duration.ofSeconds(10));
        awaitBaseline(s.source());
        return s;
    }

    private static void awaitBaseline(io.rtbackup.agent.capture.CaptureSource source) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (((ScanSource) source).passes() < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("no baseline scan within 5 s");
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void everyOperationOnHostileNamesYieldsItsEvents() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-scan-ops"); CaptureScenario s = scenario(tmp)) {
            s.runOperations();
        }
    }

    @Test
    void aDirectoryRenamedWhileFilesUnderItChangeIsFollowed() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-scan-ren"); CaptureScenario s = scenario(tmp)) {
            s.renameDirectoryWhileFilesChange(Duration.ofMillis(900));
        }
    }

    @Test
    void aChangeThePipelineRejectsBecomesARescanOfItsDirectory() throws Exception {
        CaptureScenario.aRejectedChangeBecomesARescanOfItsDirectory(f -> new ScanSource(Duration.ofMillis(30), f), ScanSourceTest::awaitBaseline,
                Duration.ofSeconds(10));
    }
}
