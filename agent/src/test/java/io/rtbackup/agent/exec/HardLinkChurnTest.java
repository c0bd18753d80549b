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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rsync 3.2.7 with {@code -H --fuzzy} deadlocks now and then when listed files get hard-linked, unlinked and
 * re-linked while the run goes (sender, generator and receiver wait, passing keep-alives; see
 * RsyncPlanner.basisArgs). Each round renames 40 files the replica holds (known from capture, as in the agent) and
 * runs the listed command the agent would, against a real daemon, while a thread churns links among the listed
 * names; no round may stall. Before no run carried both options, the listed pass went with {@code --fuzzy} (the
 * validator saw no links: the churn starts after it), and every round stalled (30 of 30) until the stall watch
 * killed it after the destination's {@code timeout-s}.
 */
class HardLinkChurnTest {
    private static final int FILES = 40;
    private static final int ROUNDS = 30;
    /** A stalled pass is killed after this long without data; a sound round takes 1-3 s on a loaded machine. */
    private static final int TIMEOUT_S = 8;

    @TempDir
    Path tmp;

    @Test
    void runsWhoseFilesAreHardLinkedUnderThemDoNotStall() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dir = Files.createDirectories(src.resolve("d"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        for (int j = 0; j < FILES; j++) randomFile(dir.resolve(name(0, j)), 256 * 1024, j);
        RecentMoves moves = RecentMoves.standard();
        try (DaemonDestination dc = DaemonDestination.start(tmp, src, module, moves, null,
                Map.of("timeout-s", Integer.toString(TIMEOUT_S)))) {
            assertThat(dc.replicate(Commands.full("h", "r", "dc")).outcome())
                .isEqualTo(SyncOutcome.OK);

            List<String> stalls = new ArrayList<>();
            for (int round = 1; round <= ROUNDS; round++) {
                List<byte[]> listed = new ArrayList<>();
                for (int j = 0; j < FILES; j++) {
                    Files.move(dir.resolve(name(round - 1, j)), dir.resolve(name(round, j)));
                    moves.observe(new CapturedEvent("r", b("d/" + name(round, j)), FileOp.MOVE_TO, false,
                        b("d/" + name(round - 1, j)), CaptureSource.FANOTIFY, 0, -1));
                    // the other name: a file of its own when validated (no links), soon a link of the first
                    Files.deleteIfExists(dir.resolve(link(round - 1, j)));
                    Files.write(dir.resolve(link(round, j)), b("x"));
                    listed.add(b("d/" + name(round, j)));
                    listed.add(b("d/" + name(round - 1, j)));
                    listed.add(b("d/" + link(round, j)));
                    listed.add(b("d/" + link(round - 1, j)));
                }
                ReplicationJob job = dc.job(Commands.paths("h", "r", "dc", listed.toArray(byte[][]::new)));
                ReplicationReport r;
                try (Churn churn = new Churn(dir, round, round)) {
                    r = dc.runner.replicate(job);
                }
                boolean stalled = r.duration().compareTo(Duration.ofSeconds(TIMEOUT_S)) >= 0
                    || r.error().orElse("").contains("moved no data");
                if (stalled) stalls.add("round " + round + ": " + r.duration().toMillis() + " ms, " + r.error());
                if (stalls.size() >= 3) break; // enough to tell, and each costs timeout-s
            }
            System.out.printf("hard-link churn: %d rounds stalled (of %d, stopping at 3)%n", stalls.size(), ROUNDS);
            assertThat(stalls).as("rounds that stalled (timeout-s %d)", TIMEOUT_S).isEmpty();

            // whatever the churn left: one more run of every name makes the replica equal to the source
            List<byte[]> all = new ArrayList<>();
            for (int j = 0; j < FILES; j++) {
                all.add(b("d/" + name(ROUNDS, j)));
                all.add(b("d/" + link(ROUNDS, j)));
            }
            ReplicationReport last = dc.replicate(Commands.paths("h", "r", "dc",
                all.toArray(byte[][]::new)));
            assertThat(last.outcome()).as("%s", last).isEqualTo(SyncOutcome.OK);
            TreeDiff.Result diff = TreeDiff.defaults().ignoringDirMtime().compare(BytePaths.utf8(src.toString()),
                BytePaths.utf8(module.resolve("h/r").toString()));
            assertThat(diff.isEqual()).as("%s", diff).isTrue();
        }
    }

    private static String name(int round, int j) {
        return "n" + round + "_" + j;
    }

    private static String link(int round, int j) {
        return "h" + round + "_" + j;
    }



    /**
     * While open: makes a listed file's h-name a link of it, removes an h-name, or replaces a listed file by a link
     * of its h-name (so a name vanishes and comes back as another link), at random, as fast as it can.
     */
    private static final class Churn implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Churn(Path dir, int round, long seed) {
            thread = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                while (!stop.get()) {
                    int j = rnd.nextInt(FILES);
                    Path file = dir.resolve(name(round, j));
                    Path h = dir.resolve(link(round, j));
                    try {
                        switch (rnd.nextInt(3)) {
                            case 0 -> {
                                Files.deleteIfExists(h);
                                Files.createLink(h, file);
                            }
                            case 1 -> Files.deleteIfExists(h);
                            default -> {
                                Files.createLink(h, file);
                                Files.delete(file);
                                Files.createLink(file, h);
                            }
                        }
                    } catch (IOException e) {
                        // the name is already there or not there: the next operation picks another
                    }
                }
            }, "hard-link-churn");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
        }
    }
}
