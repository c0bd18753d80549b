package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.exec.RsyncPlanner.Pass;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.rsync.RsyncExclusionFile;
import io.rtbackup.agent.rsync.RsyncFileErrors;
import io.rtbackup.agent.rsync.RsyncFileErrors.FileError;
import io.rtbackup.agent.rsync.RsyncExit;
import io.rtbackup.agent.rsync.RsyncLauncher;
import io.rtbackup.agent.rsync.RsyncPriority;
import io.rtbackup.agent.rsync.RsyncResult;
import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.agent.rsync.RsyncStdin;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.SyncOutcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates a {@link ReplicationJob} with rsync: the passes {@link RsyncPlanner} lays out, run one after the other
 * through an {@link RsyncLauncher} (renamed paths first get a delta basis from {@link MoveBasis}), into one report.
 * A basis pass that fails only costs bandwidth and does not change the outcome.
 * <ul>
 *   <li>One run at a time per replica tree (see {@link #replicate}).</li>
 *   <li>A run that loses a {@code --mkpath} race to another agent creating the same directory (EEXIST, exit 11)
 *   is retried once.</li>
 *   <li>The destination's command timeout bounds the whole run (all its passes) and kills the process tree;
 *   {@code --timeout} is rsync's I/O inactivity limit, which the launcher enforces itself where rsync does not
 *   (a far end that stopped answering, a deadlock: only keep-alives flow), as a {@code STALLED} failure.</li>
 *   <li>Kept versions: the run's version dir is stamped with the agent's clock when the run starts, and the
 *   remote dirs that got versions are remembered for the pruner ({@link #versionedDirs}).</li>
 *   <li>The replica tree each (root, destination) was last run into is remembered for reconciliation
 *   ({@link #replicatedTrees}); a run can go at low CPU and I/O priority ({@link RsyncPriority}).</li>
 * </ul>
 */
public final class RsyncRunner implements Replicator {
    private static final Logger log = LoggerFactory.getLogger(RsyncRunner.class);

    private static final int STDOUT_MAX_BYTES = 1 << 20;
    /** Reruns of a pass that met unreadable source paths, each leaving out what the previous ones could not read. */
    static final int MAX_EXCLUSION_RUNS = 3;

    private final String rsyncPath;
    private final MoveBasis moveBasis;
    private final Clock clock;
    private final RsyncLauncher launcher = new RsyncLauncher();
    /** Remote dirs per destination that runs kept versions in: the pruner's work list besides the default ones. */
    private final Map<String, Set<String>> versionedDirs = new ConcurrentHashMap<>();
    /** One fair lock per destination + remote directory: runs into one replica tree go one at a time. */
    private final Map<String, ReentrantLock> treeLocks = new ConcurrentHashMap<>();
    /** The last job per root + destination: where the workers route that pair (its remote dir). */
    private final Map<String, ReplicatedTree> trees = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public RsyncRunner(String rsyncPath) {
        this(rsyncPath, Clock.systemUTC(), RecentMoves.standard());
    }

    /** {@code clock} stamps the version dirs of destinations that keep versions. */
    public RsyncRunner(String rsyncPath, Clock clock) {
        this(rsyncPath, clock, RecentMoves.standard());
    }

    /** @param moves renames the agent captured, so moved paths can use their old copies as delta basis */
    public RsyncRunner(String rsyncPath, RecentMoves moves) {
        this(rsyncPath, Clock.systemUTC(), moves);
    }

    public RsyncRunner(String rsyncPath, Clock clock, RecentMoves moves) {
        this.rsyncPath = rsyncPath;
        this.clock = clock;
        this.moveBasis = new MoveBasis(moves);
    }

    /** The remote dirs of {@code destination} that runs of this agent kept versions in so far. */
    public Set<String> versionedDirs(String destination) {
        return Set.copyOf(versionedDirs.getOrDefault(destination, Set.of()));
    }

    /**
     * A replica tree this runner ran a job into: a root of this host, a destination and the directory under it
     * (the remote dir the workers' route gives that pair).
     */
    public record ReplicatedTree(String rootId, String destination, String remoteDir) {
    }

    /** The tree each (root, destination) was last run into, since this runner was created. */
    public Collection<ReplicatedTree> replicatedTrees() {
        return List.copyOf(trees.values());
    }

    @Override
    public ReplicationReport replicate(ReplicationJob job) {
        return replicate(job, RsyncPriority.NORMAL);
    }

    /**
     * Runs the job, one run at a time per destination directory (destination + remote dir), in arrival order.
     * Two rsyncs in one replica tree would race: an older run finishing last would leave older content (the
     * newest state must win); one run's directory scans (--fuzzy, --delete) see the other's temporary files
     * vanish (spurious exit 24); and --mkpath fails with EEXIST when both create the directory. Different roots
     * and different destinations still run in parallel, bounded by the executor.
     *
     * @param priority the CPU and I/O priority of its rsync processes
     */
    public ReplicationReport replicate(ReplicationJob job, RsyncPriority priority) {
        trees.put(job.rootId() + "\0" + job.destination().name(),
            new ReplicatedTree(job.rootId(), job.destination().name(), job.remoteDir()));
        String dir = job.destination().name() + "\0" + job.remoteDir();
        ReentrantLock lock = treeLocks.computeIfAbsent(dir, k -> new ReentrantLock(true));
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ReplicationReport.failedToRun("interrupted (agent shutting down)", Duration.ZERO);
        }
        try {
            return replicateOrRetryMkpathRace(job, priority);
        } finally {
            lock.unlock();
        }
    }

    /** Another agent may create the same parent directory on the daemon concurrently; one retry settles that. */
    private ReplicationReport replicateOrRetryMkpathRace(ReplicationJob job, RsyncPriority priority) {
        ReplicationReport r = replicateNow(job, priority);
        if (isMkpathRace(r)) {
            log.info("command {} destination={}: lost a mkdir race on the destination, retrying once",
                job.commandId(), job.destination().name());
            r = replicateNow(job, priority);
        }
        return r;
    }

    static boolean isMkpathRace(ReplicationReport r) {
        return RsyncExit.isMkpathRace(r.exitCode(), r.error().orElse(""));
    }

    private ReplicationReport replicateNow(ReplicationJob job, RsyncPriority priority) {
        long start = System.nanoTime();
        Destination dest = job.destination();
        long deadline = start + dest.commandTimeout().toNanos();
        RsyncEndpoint endpoint = RsyncEndpoint.of(rsyncPath, dest);
        Map<String, String> env;
        try {
            env = endpoint.environment();
        } catch (IOException e) {
            return ReplicationReport.failedToRun("cannot read the password of destination '" + dest.name() + "': "
                + e.getMessage(), Duration.ofNanos(System.nanoTime() - start));
        }
        List<Pass> passes = RsyncPlanner.plan(job, endpoint, versionStamp(job), moveBasis.bases(job));
        RsyncStats stats = RsyncStats.NONE;
        SyncOutcome outcome = SyncOutcome.OK;
        int exitCode = 0;
        List<String> errors = new ArrayList<>();
        FailureSide side = FailureSide.NONE;
        List<FileError> stuck = new ArrayList<>();
        for (Pass pass : passes) {
            PassResult r = runPass(job, pass, env, deadline, priority);
            if (!pass.basis() && r.side == FailureSide.SOURCE) r = leaveOutUnreadable(job, pass, r, env, deadline, priority);
            stats = stats.plus(r.stats);
            if (pass.basis() && r.outcome != SyncOutcome.OK) {
                // only bandwidth is lost: the passes after it transfer the same paths
                log.info("command {} destination={}: a renamed path goes without its old copy as delta basis: {}",
                    job.commandId(), job.destination().name(), r.error);
                continue;
            }
            if (r.error != null) errors.add(r.error);
            if (r.outcome != SyncOutcome.OK) {
                exitCode = r.exitCode;
                outcome = worse(outcome, r.outcome);
                side = worse(side, r.side);
            }
            stuck.addAll(r.stuck);
            if (r.outcome == SyncOutcome.FAILED) break;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (outcome != SyncOutcome.PARTIAL) side = outcome == SyncOutcome.OK ? FailureSide.NONE : FailureSide.UNKNOWN;
        return new ReplicationReport(outcome, exitCode, stats, took,
            errors.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", errors)), side,
            side == FailureSide.SOURCE ? stuck : List.of());
    }

    /**
     * A pass the sender could not read some paths of. rsync then skips every deletion of the run ("IO error
     * encountered -- skipping file deletion"), so the pass runs again with those paths excluded
     * ({@link RsyncExclusionFile}: their replica copies stay as they are, everything else, deletions included,
     * completes). A path that turns unreadable during the rerun is excluded too, for up to
     * {@value #MAX_EXCLUSION_RUNS} reruns; a source that keeps changing under the runs beyond that is the host's
     * failure (retried), never a partial success. The result is PARTIAL on the source side, listing every
     * excluded path, when the last rerun completed; whatever else the rerun ended with otherwise.
     */
    private PassResult leaveOutUnreadable(ReplicationJob job, Pass pass, PassResult first, Map<String, String> env,
            long deadlineNanos, RsyncPriority priority) {
        // Keyed by the path's bytes, one character each: distinct names never share a key.
        Map<String, FileError> excluded = new LinkedHashMap<>();
        RsyncStats stats = first.stats;
        PassResult r = first;
        for (int run = 1; run <= MAX_EXCLUSION_RUNS && r.side == FailureSide.SOURCE; run++) {
            for (FileError e : r.stuck) excluded.putIfAbsent(new String(e.path(), StandardCharsets.ISO_8859_1), e);
            log.info("command {} destination={}: the source has {} unreadable path(s) ({}); running the pass again "
                + "without them", job.commandId(), job.destination().name(), excluded.size(), describe(
                List.copyOf(excluded.values())));
            try (RsyncExclusionFile rules = RsyncExclusionFile.write(excluded.values().stream().map(FileError::path)
                    .toList())) {
                r = runPass(job, new Pass(rules.prepend(pass.args()), pass.stdin(), false), env, deadlineNanos,
                    priority);
            } catch (IOException e) {
                return new PassResult(SyncOutcome.FAILED, -1, stats, "cannot write the agent's exclusion rules: "
                    + e.getMessage(), FailureSide.UNKNOWN, List.of());
            }
            stats = stats.plus(r.stats);
        }
        if (r.side == FailureSide.SOURCE) {
            return new PassResult(SyncOutcome.FAILED, -1, stats, "source paths kept turning unreadable during "
                + MAX_EXCLUSION_RUNS + " reruns: " + describe(List.copyOf(excluded.values())) + "; " + r.error,
                FailureSide.UNKNOWN, List.of());
        }
        if (r.outcome != SyncOutcome.OK) return new PassResult(r.outcome, r.exitCode, stats, r.error, r.side, List.of());
        List<FileError> stuck = List.copyOf(excluded.values());
        return new PassResult(SyncOutcome.PARTIAL, first.exitCode, stats, "unreadable on the source, left out: "
            + describe(stuck), FailureSide.SOURCE, stuck);
    }

    private static String describe(List<FileError> errors) {
        StringBuilder b = new StringBuilder();
        for (FileError e : errors) {
            if (b.length() > 0) b.append(", ");
            b.append(BytePaths.show(e.path())).append(" (").append(e.reason()).append(')');
        }
        return b.toString();
    }

    /** The version dir of a run starting now, when the destination keeps versions. */
    private Optional<VersionStamp> versionStamp(ReplicationJob job) {
        if (!job.destination().versions().keep()) return Optional.empty();
        versionedDirs.computeIfAbsent(job.destination().name(), k -> ConcurrentHashMap.newKeySet()).add(job.remoteDir());
        return Optional.of(VersionStamp.of(clock.instant(), job.commandId()));
    }

    /** The rsync invocations for {@code job}, in order; package-private so tests can check the arguments. */
    List<Pass> plan(ReplicationJob job) {
        return RsyncPlanner.plan(job, RsyncEndpoint.of(rsyncPath, job.destination()),
            job.destination().versions().keep()
                ? Optional.of(VersionStamp.of(clock.instant(), job.commandId())) : Optional.empty(),
            moveBasis.bases(job));
    }

    /** One pass's end; {@code side} and {@code stuck} as in {@link ReplicationReport}. */
    private record PassResult(SyncOutcome outcome, int exitCode, RsyncStats stats, String error, FailureSide side,
            List<FileError> stuck) {
        PassResult(SyncOutcome outcome, int exitCode, RsyncStats stats, String error) {
            this(outcome, exitCode, stats, error, FailureSide.UNKNOWN, List.of());
        }
    }

    private PassResult runPass(ReplicationJob job, Pass pass, Map<String, String> env, long deadlineNanos,
            RsyncPriority priority) {
        if (closed) return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE, "agent is shutting down");
        RsyncStdin stdin = pass.stdin();
        RsyncResult r;
        try {
            r = launcher.run("rsync-" + job.commandId(), pass.args(), env, stdin,
                Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())), STDOUT_MAX_BYTES, priority);
        } catch (IOException e) {
            return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE,
                "cannot start '" + rsyncPath + "': " + e.getMessage() + " (install rsync >= 3.2.3 or set rsync.path)");
        }
        return switch (r.ending()) {
            case TIMED_OUT -> new PassResult(SyncOutcome.FAILED, -1, r.stats(),
                "rsync did not finish within the command timeout of " + job.destination().commandTimeout().toSeconds()
                    + " s (destination." + job.destination().name() + ".command-timeout-s); killed" + r.tailSuffix());
            case STALLED -> new PassResult(SyncOutcome.FAILED, -1, r.stats(), r.stalledProblem() + " (destination."
                + job.destination().name() + ".timeout-s)" + r.tailSuffix());
            case INTERRUPTED -> new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE,
                "interrupted (agent shutting down); killed");
            case EXITED -> {
                if (r.exitCode() != 0) {
                    log.debug("command {} rsync {} exited {}: {}", job.commandId(), pass.args(), r.exitCode(),
                        r.stderrTail());
                }
                if (r.exitCode() == 0) {
                    yield new PassResult(SyncOutcome.OK, 0, r.stats(), null, FailureSide.NONE, List.of());
                }
                String problem = RsyncEndpoint.of(rsyncPath, job.destination()).problem(r);
                if (RsyncExit.outcome(r.exitCode()) != SyncOutcome.PARTIAL) {
                    yield new PassResult(RsyncExit.outcome(r.exitCode()), r.exitCode(), r.stats(), problem);
                }
                yield partial(job, r, problem);
            }
        };
    }

    /**
     * An exit 23/24, by what rsync said about each file ({@link RsyncFileErrors}): any message about the
     * destination, or one that cannot be placed, or none at all, makes it the destination's failure; else
     * unreadable source paths make it the source's ({@link #leaveOutUnreadable} follows); paths that were only gone
     * make it a success (their deletion comes with their own events).
     */
    private static PassResult partial(ReplicationJob job, RsyncResult r, String problem) {
        RsyncFileErrors errors = r.fileErrors(job.rootPath());
        if (errors.errors().isEmpty() || errors.destinationOrUnknown()) {
            return new PassResult(SyncOutcome.PARTIAL, r.exitCode(), r.stats(), problem, FailureSide.DESTINATION,
                List.of());
        }
        if (!errors.unreadable().isEmpty()) {
            return new PassResult(SyncOutcome.PARTIAL, r.exitCode(), r.stats(), problem, FailureSide.SOURCE,
                errors.unreadable());
        }
        log.debug("command {}: source paths vanished while rsync ran ({}); their deletion follows", job.commandId(),
            errors.errors());
        return new PassResult(SyncOutcome.OK, r.exitCode(), r.stats(), null, FailureSide.NONE, List.of());
    }

    private static SyncOutcome worse(SyncOutcome a, SyncOutcome b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    /** DESTINATION over UNKNOWN over SOURCE over NONE: one failure of the destination makes the run its failure. */
    private static FailureSide worse(FailureSide a, FailureSide b) {
        return rank(a) >= rank(b) ? a : b;
    }

    private static int rank(FailureSide s) {
        return switch (s) {
            case NONE -> 0;
            case SOURCE -> 1;
            case UNKNOWN -> 2;
            case DESTINATION -> 3;
        };
    }

    @Override
    public void close() {
        closed = true;
        launcher.close();
    }
}
