package io.rtbackup.agent.capture.inotify;

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

/** inotify on this machine's kernel. */
class InotifySourceTest {

    @Test
    void everyOperationOnHostileNamesYieldsItsEvents() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-ino-ops");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), InotifySource::new,
                        Duration.ofSeconds(10))) {
            s.runOperations();
        }
    }

    @Test
    void aDirectoryRenamedWhileFilesUnderItChangeIsFollowed() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-ino-ren");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), InotifySource::new,
                        Duration.ofSeconds(10))) {
            s.renameDirectoryWhileFilesChange(Duration.ofMillis(600));
        }
    }

    @Test
    void aTreeCreatedFasterThanWatchesAreAddedIsStillReported() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-ino-race");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), InotifySource::new,
                        Duration.ofSeconds(10))) {
            byte[] root = BytePaths.join(tmp.path(), b("root"));
            int m = s.mark();
            ByteFs.mkdirs(BytePaths.join(root, b("a/b/c/d")));
            ByteFs.write(BytePaths.join(root, b("a/b/c/d/leaf")), b("x"));
            s.await(m, "leaf in a directory made at once", at(b("a/b/c/d/leaf"), FileOp.CREATE));
            int m2 = s.mark();
            ByteFs.write(BytePaths.join(root, b("a/b/c/d/later")), b("x"));
            s.await(m2, "a later change in the new directory (it is watched)", at(b("a/b/c/d/later"),
                    FileOp.CREATE));
            assertThat(((InotifySource) s.source()).watches()).isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void aStalledReaderOverflowsTheKernelQueueAndGetsARescan() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-ino-ovf");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), f -> new InotifySource(0, f),
                        Duration.ofSeconds(30))) {
            s.stormWhileStalled(20_000);
        }
    }

    @Test
    void aStalledProcessorOverflowsTheReadAheadAndGetsARescan() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-ino-ovf2");
                CaptureScenario s = new CaptureScenario(tmp.newDir("root"), f -> new InotifySource(64 * 1024, f),
                        Duration.ofSeconds(30))) {
            s.stormWhileStalled(20_000);
        }
    }

    @Test
    void aChangeThePipelineRejectsBecomesARescanOfItsDirectory() throws Exception {
        CaptureScenario.aRejectedChangeBecomesARescanOfItsDirectory(InotifySource::new, source -> { },
                Duration.ofSeconds(10));
    }
}
