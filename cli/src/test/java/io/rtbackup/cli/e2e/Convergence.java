package io.rtbackup.cli.e2e;

import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TreeDiff;
import java.io.IOException;
import java.time.Duration;

/** Waiting for every destination to equal the source after a workload, failing with what a re-run needs. */
final class Convergence {
    private Convergence() {
    }

    /**
     * Polls both destinations until each equals the source (content, mode, mtime, symlink targets, hard links).
     * On timeout fails with the seed, the first differing path and the tail of the operation log.
     */
    static void await(Fleet fleet, Workload workload, String scenario, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        for (RsyncDaemon d : new RsyncDaemon[] {fleet.d1, fleet.d2}) {
            awaitOne(fleet, d, workload, scenario, start + timeout.toNanos());
        }
        System.out.printf("%s: %s converged on both destinations in %d ms%n", scenario, workload,
            (System.nanoTime() - start) / 1_000_000);
    }

    /** Only one destination: the other is meant to stay behind. */
    static void awaitOne(Fleet fleet, RsyncDaemon d, Workload workload, String scenario, Duration timeout)
            throws InterruptedException {
        awaitOne(fleet, d, workload, scenario, System.nanoTime() + timeout.toNanos());
    }

    private static void awaitOne(Fleet fleet, RsyncDaemon d, Workload workload, String scenario, long deadline)
            throws InterruptedException {
        String last = "";
        int differences = 0;
        while (true) {
            try {
                TreeDiff.Result r = fleet.diff(d);
                if (r.isEqual()) return;
                differences = r.differences().size();
                last = "first differing path: " + r.firstDifference().orElseThrow() + "\n" + r.describe();
            } catch (IOException e) { // the replica's root is not there yet
                last = "replica not there yet: " + e.getMessage();
                differences = -1;
            }
            if (System.nanoTime() > deadline) {
                LostSummary.DIFFERENCES.addAndGet(Math.max(1, differences));
                throw new AssertionError(scenario + ": " + workload + " (re-run with -Dseed=" + workload.seed
                    + ") did not converge on the destination on port " + d.port() + "; " + last
                    + "\nlast operations:\n" + workload.tail(40));
            }
            Thread.sleep(250);
        }
    }
}
