package io.rtbackup.agent.capture.scan;

import io.rtbackup.agent.capture.CaptureScenario;
import io.rtbackup.testkit.TempDirs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The polling scan on a real tree. */
class ScanSourceTest {

    private static CaptureScenario scenario(TempDirs tmp) throws Exception {
        CaptureScenario s = new CaptureScenario(tmp.newDir("root"), () -> new ScanSource(Duration.ofMillis(30)),
                Duration.ofSeconds(10));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (((ScanSource) s.source()).passes() < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("no baseline scan within 5 s");
            Thread.sleep(5);
        }
        return s;
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
}
