package io.rtbackup.agent.reconcile;

import io.rtbackup.agent.exec.RsyncRunner.ReplicatedTree;
import io.rtbackup.process.FatalErrorHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each replica tree's reconciliation on a schedule, one at a time, on a thread of its own.
 *
 * <p>The trees are those the workers route this host's roots to (as the executor last ran them, see
 * {@link io.rtbackup.agent.exec.RsyncRunner#replicatedTrees}); after a start that is every routed pair within
 * the start-up rescan's full syncs. The agent does not know the workers' routing, so a pair that never got a
 * command is not reconciled: the agent would otherwise create replicas nobody routed.
 *
 * <p>Schedule, on a monotonic clock (wall-clock jumps neither skip nor repeat runs): a tree seen for the first time
 * is first due after a phase in [0, interval) derived from host, root and destination, so a fleet started
 * together spreads its reconciliations over the whole interval; after each run (whatever its outcome) the next is
 * due one interval later, lengthened or shortened by up to the jitter share, drawn from the same key and the run
 * number, so neighbours that happen to share a phase drift apart. A tree no longer reported is forgotten.
 */
public final class ReconcileScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReconcileScheduler.class);
    /** Longest sleep between two looks at the trees: a newly routed tree is noticed within it. */
    static final Duration POLL = Duration.ofMinutes(1);

    private final String hostId;
    private final ReconcileConfig config;
    private final Supplier<Collection<ReplicatedTree>> trees;
    private final Function<ReplicatedTree, Reconciliation> reconcile;
    private final LongSupplier nanos;
    private final Map<ReplicatedTree, Due> due = new HashMap<>();
    private Thread thread;

    private static final class Due {
        long atNanos;
        long runs;

        Due(long atNanos) {
            this.atNanos = atNanos;
        }
    }

    /**
     * @param trees     the trees to reconcile, asked on every look
     * @param reconcile runs one reconciliation ({@link Reconciler#reconcile})
     * @param nanos     the monotonic clock, {@link System#nanoTime} in production
     */
    public ReconcileScheduler(String hostId, ReconcileConfig config, Supplier<Collection<ReplicatedTree>> trees,
            Function<ReplicatedTree, Reconciliation> reconcile, LongSupplier nanos) {
        this.hostId = hostId;
        this.config = config;
        this.trees = trees;
        this.reconcile = reconcile;
        this.nanos = nanos;
    }

    /**
     * Takes in the current trees and runs every reconciliation that is due, one after the other; returns them.
     * One run at a time with {@link #runAllNow}.
     */
    public synchronized List<Reconciliation> runDue() {
        if (!config.enabled()) return List.of();
        return run(false);
    }

    /**
     * Reconciles every current tree now, whatever its schedule (on demand), one after the other, in the calling
     * thread; each tree's next scheduled run is one interval after this one. Also when the schedule is off.
     */
    public synchronized List<Reconciliation> runAllNow() {
        return run(true);
    }

    private List<Reconciliation> run(boolean all) {
        long now = nanos.getAsLong();
        Collection<ReplicatedTree> current = trees.get();
        due.keySet().retainAll(current);
        for (ReplicatedTree t : current) {
            due.computeIfAbsent(t, k -> new Due(now + phase(k).toNanos()));
        }
        List<Reconciliation> done = new ArrayList<>();
        for (ReplicatedTree t : current) {
            Due d = due.get(t);
            if (!all && d.atNanos - nanos.getAsLong() > 0) continue;
            done.add(reconcile.apply(t));
            d.runs++;
            d.atNanos = nanos.getAsLong() + next(t, d.runs).toNanos();
            if (Thread.currentThread().isInterrupted()) break;
        }
        return done;
    }

    /** How long until the next reconciliation is due (at most {@link #POLL}); {@link #POLL} without trees. */
    synchronized Duration untilNext() {
        long now = nanos.getAsLong();
        long min = POLL.toNanos();
        for (Due d : due.values()) min = Math.min(min, Math.max(0, d.atNanos - now));
        return Duration.ofNanos(min);
    }

    /** Where in the interval the first reconciliation of {@code tree} falls: the same on every start. */
    Duration phase(ReplicatedTree tree) {
        return Duration.ofNanos((long) (unit(seed(tree)) * config.interval().toNanos()));
    }

    /** The interval after run number {@code run} of {@code tree}, with its jitter. */
    Duration next(ReplicatedTree tree, long run) {
        double u = new SplittableRandom(seed(tree) ^ (run * 0x9E3779B97F4A7C15L)).nextDouble(-1, 1);
        return Duration.ofNanos((long) (config.interval().toNanos() * (1 + config.jitterFraction() * u)));
    }

    private long seed(ReplicatedTree tree) {
        CRC32 crc = new CRC32();
        crc.update((hostId + "\0" + tree.rootId() + "\0" + tree.destination()).getBytes(StandardCharsets.UTF_8));
        return new SplittableRandom(crc.getValue()).nextLong();
    }

    private static double unit(long seed) {
        return new SplittableRandom(seed).nextDouble();
    }

    /**
     * Runs the schedule on a thread of its own until {@link #close}. An exception escaping a run is a bug, not a
     * destination failure (those come back as failed reconciliations): it is handed to {@code fatal}.
     */
    public ReconcileScheduler start(FatalErrorHandler fatal) {
        if (!config.enabled()) {
            log.info("host {}: periodic reconciliation is off ({}=0)", hostId, ReconcileConfig.INTERVAL_H);
            return this;
        }
        thread = new Thread(fatal.guard("reconciliation scheduler of host " + hostId, this::loop),
            "rtb-reconcile");
        thread.setDaemon(true);
        thread.start();
        log.info("host {}: reconciling each replica tree every {} h (±{} %)", hostId, config.interval().toHours(),
            Math.round(config.jitterFraction() * 100));
        return this;
    }

    private void loop() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                runDue();
                TimeUnit.NANOSECONDS.sleep(Math.max(1, untilNext().toNanos()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing
        }
    }

    /** Stops the thread; a reconciliation in progress is interrupted (rsync killed) and counts as failed. */
    @Override
    public void close() {
        Thread t = thread;
        if (t == null) return;
        t.interrupt();
        try {
            t.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
