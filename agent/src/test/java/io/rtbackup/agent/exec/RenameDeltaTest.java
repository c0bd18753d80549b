package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static io.rtbackup.agent.exec.DaemonDestination.randomFile;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.TreeDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renamed paths travel as deltas against the replica's old copy (MoveBasis): a file moved to another directory,
 * a file moved and renamed, a renamed directory of many files, a file renamed within its directory (also one with
 * a second name beside it) - pushed to a real authenticated daemon, with the rename known from capture
 * (RecentMoves) as in the agent.
 */
class RenameDeltaTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;
    Path src;
    Path module;
    RecentMoves moves;

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        module = Files.createDirectories(tmp.resolve("module"));
        moves = RecentMoves.standard();
    }

    private void renamed(String from, String to, boolean dir) throws Exception {
        Files.move(src.resolve(from), src.resolve(to));
        moves.observe(new CapturedEvent("r", b(to), FileOp.MOVE_TO, dir, b(from), CaptureSource.FANOTIFY, 0, -1));
    }

    @Test
    void movedFilesAndRenamedDirectoriesTravelAsDeltasAndTheFarmIsRemoved() throws Exception {
        Files.createDirectories(src.resolve("a"));
        Files.createDirectories(src.resolve("c/deeper"));
        Files.createDirectories(src.resolve("photos"));
        randomFile(src.resolve("a/big.bin"), 8 * MIB, 1);
        randomFile(src.resolve("a/other.bin"), 4 * MIB, 2);
        for (int i = 0; i < 200; i++) randomFile(src.resolve("photos/img" + i + ".jpg"), 32 * 1024, 100 + i);
        Files.createLink(src.resolve("photos/img0-too.jpg"), src.resolve("photos/img0.jpg"));
        long data = 8 * MIB + 4 * MIB + 200 * 32 * 1024;
        try (DaemonDestination dc = DaemonDestination.start(tmp, src, module, moves, "mv-pw", Map.of())) {
            ReplicationReport first = dc.replicate(Commands.full("h", "r", "dc"));
            assertThat(first.outcome()).isEqualTo(SyncOutcome.OK);

            renamed("a/big.bin", "c/big.bin", false);           // moved to another directory
            renamed("a/other.bin", "c/deeper/renamed.bin", false); // moved and renamed
            renamed("photos", "albums", true);                  // a directory of 200 files renamed
            ReplicationReport moved = dc.replicate(Commands.paths("h", "r", "dc",
                b("c/big.bin"), b("a/big.bin"), b("c/deeper/renamed.bin"), b("a/other.bin"), b("albums"),
                b("photos")));

            assertThat(moved.outcome()).as("%s", moved).isEqualTo(SyncOutcome.OK);
            System.out.printf("renames of %d bytes: %d bytes sent (%.3f %%), literal %d%n", data,
                moved.stats().bytesSent(), 100.0 * moved.stats().bytesSent() / data, moved.stats().literalBytes());
            assertThat(moved.stats().literalBytes()).as("literal data").isLessThan(data / 100);
            assertThat(moved.stats().bytesSent()).as("bytes on the wire").isLessThanOrEqualTo((long) (data * 0.02));
            TreeDiff.Result diff = TreeDiff.defaults().ignoringDirMtime().compare(BytePaths.utf8(src.toString()),
                BytePaths.utf8(module.resolve("h/r").toString()));
            assertThat(diff.isEqual()).as("%s", diff).isTrue();
            // the basis pass goes without -H; the listed pass after it links what is linked on the source
            assertThat(Files.getAttribute(module.resolve("h/r/albums/img0.jpg"), "unix:ino"))
                .isEqualTo(Files.getAttribute(module.resolve("h/r/albums/img0-too.jpg"), "unix:ino"));
            // the old copies serve as basis where they are: nothing but the replica appears beside it
            try (var beside = Files.list(module.resolve("h"))) {
                assertThat(beside.map(q -> q.getFileName().toString())).as("nothing left beside the replica")
                    .containsExactly("r");
            }
        }
    }

    @Test
    void filesRenamedWithinTheirDirectoryTravelAsDeltasAndKeepTheirLinks() throws Exception {
        Files.createDirectories(src.resolve("a"));
        randomFile(src.resolve("a/big.bin"), 8 * MIB, 1);
        randomFile(src.resolve("a/linked.bin"), 4 * MIB, 2);
        Files.createLink(src.resolve("a/linked-too.bin"), src.resolve("a/linked.bin"));
        randomFile(src.resolve("root.bin"), 2 * MIB, 3);
        long data = 8 * MIB + 4 * MIB + 2 * MIB;
        try (DaemonDestination dc = DaemonDestination.start(tmp, src, module, moves, "mv-pw", Map.of())) {
            assertThat(dc.replicate(Commands.full("h", "r", "dc")).outcome())
                .isEqualTo(SyncOutcome.OK);

            renamed("a/big.bin", "a/big2.bin", false);
            renamed("a/linked.bin", "a/linked2.bin", false); // its other name, a/linked-too.bin, goes along
            renamed("root.bin", "root2.bin", false);         // in the root itself
            ReplicationReport r = dc.replicate(Commands.paths("h", "r", "dc", b("a/big2.bin"),
                b("a/big.bin"), b("a/linked2.bin"), b("a/linked.bin"), b("root2.bin"), b("root.bin")));

            assertThat(r.outcome()).as("%s", r).isEqualTo(SyncOutcome.OK);
            System.out.printf("renames within their directories of %d bytes: %d bytes sent (%.3f %%), literal %d%n",
                data, r.stats().bytesSent(), 100.0 * r.stats().bytesSent() / data, r.stats().literalBytes());
            assertThat(r.stats().literalBytes()).as("literal data").isLessThan(data / 100);
            assertThat(r.stats().bytesSent()).as("bytes on the wire").isLessThanOrEqualTo((long) (data * 0.02));
            TreeDiff.Result diff = TreeDiff.defaults().ignoringDirMtime().compare(BytePaths.utf8(src.toString()),
                BytePaths.utf8(module.resolve("h/r").toString()));
            assertThat(diff.isEqual()).as("%s", diff).isTrue();
            // the basis pass goes without -H; the listed pass after it links what is linked on the source
            Path rep = module.resolve("h/r/a");
            assertThat(Files.getAttribute(rep.resolve("linked2.bin"), "unix:ino"))
                .isEqualTo(Files.getAttribute(rep.resolve("linked-too.bin"), "unix:ino"));
            assertThat(Files.getAttribute(rep.resolve("linked2.bin"), "unix:nlink")).isEqualTo(2);
        }
    }

    @Test
    void withoutAKnownRenameNothingChangesAndAStaleHintIsHarmless() throws Exception {
        Files.createDirectories(src.resolve("a"));
        Files.createDirectories(src.resolve("b"));
        randomFile(src.resolve("a/f.bin"), MIB, 7);
        try (DaemonDestination dc = DaemonDestination.start(tmp, src, module, moves, null, Map.of())) {
            assertThat(dc.replicate(Commands.full("h", "r", "dc")).outcome())
                .isEqualTo(SyncOutcome.OK);
            // A hint that points at a path the replica never had: the new file is sent in full, correctly.
            randomFile(src.resolve("b/new.bin"), MIB, 8);
            moves.observe(new CapturedEvent("r", b("b/new.bin"), FileOp.MOVE_TO, false, b("zzz/gone.bin"),
                CaptureSource.FANOTIFY, 0, -1));
            ReplicationReport r = dc.replicate(Commands.paths("h", "r", "dc", b("b/new.bin")));
            assertThat(r.outcome()).isEqualTo(SyncOutcome.OK);
            assertThat(r.stats().literalBytes()).isEqualTo(MIB);
            assertThat(Files.mismatch(src.resolve("b/new.bin"), module.resolve("h/r/b/new.bin"))).isEqualTo(-1L);
        }
    }


}
