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

    /** A root holding one file under two names in different directories: {@code x/kept} and {@code y/other}. */
    private static byte[] fileWithTwoNames(TempDirs tmp) throws Exception {
        byte[] root = tmp.newDir("root");
        ByteFs.mkdir(BytePaths.join(root, b("x")));
        ByteFs.mkdir(BytePaths.join(root, b("y")));
        byte[] kept = BytePaths.join(root, b("x/kept"));
        ByteFs.write(kept, b("old content"));
        ByteFs.link(kept, BytePaths.join(root, b("y/other")));
        return root;
    }

    /**
     * Issue 15: a file written through one of its two names, then that name removed. The write's event names the
     * removed path, whose command finds nothing to send; the other name holds the new content. The kernel reports
     * the link count change only with the file's own id (no directory, no name): it must become a change of a
     * name the file still has, or the replica of that name keeps the old content for good.
     */
    @Test
    void aFileWrittenThroughANameThatIsThenRemovedIsReportedUnderTheNameItKeeps() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-fan-link")) {
            byte[] root = fileWithTwoNames(tmp);
            byte[] other = BytePaths.join(root, b("y/other"));
            try (CaptureScenario s = new CaptureScenario(root, FanotifySource::new, Duration.ofSeconds(10))) {
                int m = s.mark();
                ByteFs.writeAt(other, 0, b("new"));
                ByteFs.delete(other);
                s.await(m, "removal of the written name", at(b("y/other"), FileOp.DELETE));
                s.await(m, "a change of the name the written file keeps", at(b("x/kept"), FileOp.ATTRIB,
                        FileOp.MODIFY, FileOp.CLOSE_WRITE));
            }
        }
    }

    /** As above, with the written name replaced by a rename over it: the file loses that name just the same. */
    @Test
    void aFileWrittenThroughANameThatIsThenRenamedOverIsReportedUnderTheNameItKeeps() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-fan-over")) {
            byte[] root = fileWithTwoNames(tmp);
            byte[] other = BytePaths.join(root, b("y/other"));
            ByteFs.write(BytePaths.join(root, b("y/newer")), b("another file"));
            try (CaptureScenario s = new CaptureScenario(root, FanotifySource::new, Duration.ofSeconds(10))) {
                int m = s.mark();
                ByteFs.writeAt(other, 0, b("new"));
                ByteFs.rename(BytePaths.join(root, b("y/newer")), other);
                s.await(m, "a change of the name the written file keeps", at(b("x/kept"), FileOp.ATTRIB,
                        FileOp.MODIFY, FileOp.CLOSE_WRITE));
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
