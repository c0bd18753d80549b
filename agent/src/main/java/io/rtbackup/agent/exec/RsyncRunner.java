package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.Password;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.FullRoot;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.schema.SyncOutcome;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs rsync (push, delta) for a {@link ReplicationJob}: one process per run, started from an argument list
 * (never a shell), the file list written NUL-separated to its stdin as raw bytes.
 *
 * <p>Choices, and why:
 * <ul>
 *   <li>{@code -a -H --numeric-ids} (+ {@code -A}/{@code -X} where the destination enables them): the full state
 *   of each file including hard links among the names of one run (the validator adds a listed file's other
 *   names in the same directory); numeric ids because the backup host's user names mean nothing for the
 *   source's files.</li>
 *   <li>Listed paths: {@code --files-from=- --from0} (implies {@code --relative}), {@code -r} (a listed directory
 *   is replicated with its contents: a renamed directory arrives whole), {@code --delete} (a listed directory's
 *   extraneous entries go; implied parent directories are not touched), {@code --delete-missing-args --force}
 *   (a missing path is deleted on the destination, recursively for a directory).</li>
 *   <li>{@code --ignore-times} for listed paths: rsync's quick check compares size and mtime, so a same-size
 *   rewrite with an equal (or, across filesystems, truncated) timestamp would be skipped. Every listed path was
 *   reported changed, so it always goes through the delta algorithm; an unchanged file costs checksums, not
 *   data. Full-root syncs keep the quick check, with {@code --modify-window=-1} (nanosecond comparison, used
 *   for directory times too).</li>
 *   <li>No {@code --inplace}: rsync writes a temporary file and renames it over the old one, so a reader on the
 *   destination never sees a half-written file, an interrupted transfer never corrupts the replica, and a file
 *   hard-linked on the destination is not rewritten through its other names. The cost is destination disk I/O
 *   for a full copy of a changed file; the wire still carries only the delta.</li>
 *   <li>{@code --partial-dir} (listed runs): an interrupted transfer of a big file resumes from what arrived;
 *   whole-root runs go without it and delete partial files left behind. rsync adds
 *   exclude/protect rules for the directory name, so a source entry named exactly like it is not replicated;
 *   the name is chosen to make that unlikely.</li>
 *   <li>{@code --fuzzy} (listed runs without hard-linked files; see {@link #listArgs}): a new name
 *   (rename, save-via-temp-file) finds a similar file in the same destination
 *   directory as its delta basis. rsync processes a deletion of a missing listed path in file-list order, so a
 *   batch with a renamed file's old and new name would delete the basis first; such batches run in two passes,
 *   present paths first, deletions second.</li>
 *   <li>{@code --mkpath}: the destination's {@code <prefix>/<host>/<root>} directories are created on first
 *   use (rsync &gt;= 3.2.3). A run that loses a mkdir race to another agent creating the same directory
 *   (EEXIST, exit 11) is retried once.</li>
 *   <li>One run at a time per replica tree (see {@link #replicate}).</li>
 *   <li>Kept versions (destination {@code keep-versions=true}): {@code --backup --backup-dir=<dir>}, where
 *   {@code <dir>} is one version dir per run outside the mirrored tree ({@link VersionLayout}), stamped with the
 *   agent's clock when the run starts. Both passes of a run share it. rsync moves every file it would overwrite
 *   or delete (also the contents of a deleted directory) there, creating the dir only when there is one.</li>
 *   <li>{@code --timeout} is rsync's I/O inactivity limit; the destination's command timeout bounds the whole
 *   run and kills the process tree.</li>
 * </ul>
 * The daemon password goes to the child's {@code RSYNC_PASSWORD} environment variable, never onto a command line.
 */
public final class RsyncRunner implements Replicator {
    private static final Logger log = LoggerFactory.getLogger(RsyncRunner.class);

    /** Relative name of rsync's partial directory on the destination (per destination directory). */
    public static final String PARTIAL_DIR = ".rtb-partial~";
    static final int STDERR_TAIL_LINES = 8;
    static final int ERROR_MAX_CHARS = 2000;
    private static final int STDOUT_MAX_BYTES = 1 << 20;
    private static final Pattern VERSION = Pattern.compile("version\\s+(\\d+)\\.(\\d+)\\.(\\d+)");
    private static final byte[] DOT_SLASH = {'.', '/'};
    private static final Duration TERM_GRACE = Duration.ofSeconds(2);

    private final String rsyncPath;
    private final MoveBasis moveBasis;
    private final Clock clock;
    /** Remote dirs per destination that runs kept versions in: the pruner's work list besides the default ones. */
    private final Map<String, Set<String>> versionedDirs = new ConcurrentHashMap<>();
    private final Set<Process> live = ConcurrentHashMap.newKeySet();
    /** One fair lock per destination + remote directory: runs into one replica tree go one at a time. */
    private final Map<String, ReentrantLock> treeLocks = new ConcurrentHashMap<>();
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
     * Fails with a clear message unless {@code rsyncPath} runs and is at least 3.2.3 (for --mkpath); the same
     * minimum holds for the destination daemons.
     */
    public static void checkVersion(String rsyncPath) {
        String out;
        try {
            Process p = new ProcessBuilder(rsyncPath, "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.ISO_8859_1);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("'" + rsyncPath + " --version' did not finish within 10 s");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + rsyncPath + "': " + e.getMessage()
                + "; install rsync >= 3.2.3 or set rsync.path", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking the rsync version", e);
        }
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("'" + rsyncPath + " --version' does not look like rsync: "
                + out.lines().findFirst().orElse(""));
        }
        int v = Integer.parseInt(m.group(1)) * 10000 + Integer.parseInt(m.group(2)) * 100 + Integer.parseInt(m.group(3));
        if (v < 30203) {
            throw new IllegalStateException("rsync " + m.group(1) + "." + m.group(2) + "." + m.group(3) + " at '"
                + rsyncPath + "' is too old: the executor needs >= 3.2.3 (--mkpath); upgrade it or set rsync.path");
        }
    }

    /**
     * Runs the job, one run at a time per destination directory (destination + remote dir), in arrival order.
     * Two rsyncs in one replica tree would race: an older run finishing last would leave older content (the
     * newest state must win); one run's directory scans (--fuzzy, --delete) see the other's temporary files
     * vanish (spurious exit 24); and --mkpath fails with EEXIST when both create the directory. Different roots
     * and different destinations still run in parallel, bounded by the executor.
     */
    @Override
    public ReplicationReport replicate(ReplicationJob job) {
        String dir = job.destination().name() + "\0" + job.remoteDir();
        ReentrantLock lock = treeLocks.computeIfAbsent(dir, k -> new ReentrantLock(true));
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ReplicationReport.failedToRun("interrupted (agent shutting down)", Duration.ZERO);
        }
        try {
            return replicateOrRetryMkpathRace(job);
        } finally {
            lock.unlock();
        }
    }

    /** Another agent may create the same parent directory on the daemon concurrently; one retry settles that. */
    private ReplicationReport replicateOrRetryMkpathRace(ReplicationJob job) {
        ReplicationReport r = replicateNow(job);
        if (isMkpathRace(r)) {
            log.info("command {} destination={}: lost a mkdir race on the destination, retrying once",
                job.commandId(), job.destination().name());
            r = replicateNow(job);
        }
        return r;
    }

    static boolean isMkpathRace(ReplicationReport r) {
        return r.exitCode() == 11 && r.error().map(e -> e.contains("mkdir") && e.contains("File exists (17)"))
            .orElse(false);
    }

    private ReplicationReport replicateNow(ReplicationJob job) {
        long start = System.nanoTime();
        Destination dest = job.destination();
        long deadline = start + dest.commandTimeout().toNanos();
        Optional<String> secret;
        try {
            secret = secret(dest);
        } catch (IOException e) {
            return ReplicationReport.failedToRun("cannot read the password of destination '" + dest.name() + "': "
                + e.getMessage(), Duration.ofNanos(System.nanoTime() - start));
        }
        List<Pass> passes = plan(job, versionStamp(job));
        RsyncStats stats = RsyncStats.NONE;
        Optional<MoveBasis.Farm> farm = renameFarm(job, secret, deadline);
        if (farm.isPresent()) passes = MoveBasis.apply(farm.get(), passes);
        SyncOutcome outcome = SyncOutcome.OK;
        int exitCode = 0;
        List<String> errors = new ArrayList<>();
        try {
            for (Pass pass : passes) {
                PassResult r = runPass(job, pass, secret, deadline);
                stats = stats.plus(r.stats);
                if (r.error != null) errors.add(r.error);
                if (r.outcome != SyncOutcome.OK) {
                    exitCode = r.exitCode;
                    outcome = worse(outcome, r.outcome);
                }
                if (r.outcome == SyncOutcome.FAILED) break;
            }
        } finally {
            farm.ifPresent(f -> removeFarm(job, f, secret, deadline));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new ReplicationReport(outcome, exitCode, stats, took,
            errors.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", errors)));
    }

    /** Uploads the link farm for renamed paths; empty when there is none or it could not be put in place. */
    private Optional<MoveBasis.Farm> renameFarm(ReplicationJob job, Optional<String> secret, long deadline) {
        Optional<MoveBasis.Farm> farm;
        try {
            farm = moveBasis.prepare(job, rsyncPath, List.of("--timeout=" + Math.max(1,
                job.destination().ioTimeout().toSeconds())));
        } catch (IOException e) {
            log.info("command {} destination={}: renamed paths go without a delta basis: {}", job.commandId(),
                job.destination().name(), e.getMessage());
            return Optional.empty();
        }
        if (farm.isEmpty()) return farm;
        PassResult up = runPass(job, new Pass(farm.get().uploadArgs(), null), secret, deadline);
        if (up.outcome != SyncOutcome.OK) {
            log.info("command {} destination={}: cannot place the rename link farm ({}); renamed paths go without a "
                + "delta basis", job.commandId(), job.destination().name(), up.error);
            MoveBasis.deleteLocal(farm.get().localDir());
            return Optional.empty();
        }
        log.debug("command {} destination={}: {} renamed path(s) use their old copies as delta basis",
            job.commandId(), job.destination().name(), farm.get().entries());
        return farm;
    }

    private void removeFarm(ReplicationJob job, MoveBasis.Farm farm, Optional<String> secret, long deadline) {
        PassResult r = runPass(job, new Pass(farm.removeArgs(), null), secret,
            Math.max(deadline, System.nanoTime() + job.destination().ioTimeout().toNanos()));
        if (r.outcome != SyncOutcome.OK) {
            log.warn("command {} destination={}: cannot remove the rename link farm {} on the destination ({}); it "
                + "holds only symlinks and can be deleted by hand", job.commandId(), job.destination().name(),
                farm.copyDestOptions(), r.error);
        }
        MoveBasis.deleteLocal(farm.localDir());
    }

    /** One rsync invocation: its arguments and what goes to its stdin (null: nothing, stdin closed at once). */
    record Pass(List<String> args, List<ListedPath> stdin) {
    }

    /** The version dir of a run starting now, when the destination keeps versions. */
    private Optional<VersionStamp> versionStamp(ReplicationJob job) {
        if (!job.destination().versions().keep()) return Optional.empty();
        versionedDirs.computeIfAbsent(job.destination().name(), k -> ConcurrentHashMap.newKeySet()).add(job.remoteDir());
        return Optional.of(VersionStamp.of(clock.instant(), job.commandId()));
    }

    /** The rsync invocations for {@code job}, in order; package-private so tests can check the arguments. */
    List<Pass> plan(ReplicationJob job) {
        return plan(job, job.destination().versions().keep()
            ? Optional.of(VersionStamp.of(clock.instant(), job.commandId())) : Optional.empty());
    }

    private List<Pass> plan(ReplicationJob job, Optional<VersionStamp> stamp) {
        if (job.selection() instanceof FullRoot) {
            List<String> a = common(job, stamp);
            a.add("--delete");
            // Deletions after the transfer: a directory's extraneous entries go once its new content is in place.
            a.add("--delete-delay");
            // No --fuzzy: a whole-root run may meet hard-linked files that vanish under it (see listArgs).
            // No --partial-dir: with the quick check an unchanged file is not transferred, so a partial file an
            // interrupted run left for it would never be used nor removed; without the option (which protects
            // the directory from --delete) the whole-root run deletes such leftovers as extraneous.
            a.add(job.rootPath() + "/");
            a.add(job.destination().target().argument(job.remoteDir()));
            return List.of(new Pass(a, null));
        }
        List<ListedPath> all = ((Paths) job.selection()).paths();
        List<ListedPath> present = new ArrayList<>();
        List<ListedPath> missing = new ArrayList<>();
        for (ListedPath p : all) (p.presence() == Presence.MISSING ? missing : present).add(p);
        boolean fuzzy = !((Paths) job.selection()).hardLinks();
        if (needsTwoPasses(present, missing)) {
            return List.of(new Pass(listArgs(job, stamp, fuzzy), present), new Pass(listArgs(job, stamp, fuzzy), missing));
        }
        return List.of(new Pass(listArgs(job, stamp, fuzzy), all));
    }

    /**
     * Two passes only pay off when a deletion could remove a delta basis: a missing path and a present regular
     * file in the same directory (a rename within a directory, or a save through a temporary file).
     */
    static boolean needsTwoPasses(List<ListedPath> present, List<ListedPath> missing) {
        if (present.isEmpty() || missing.isEmpty()) return false;
        Set<ByteBuffer> dirsWithDeletions = new HashSet<>();
        for (ListedPath m : missing) dirsWithDeletions.add(ByteBuffer.wrap(m.parent()));
        for (ListedPath p : present) {
            if (p.presence() == Presence.REGULAR && dirsWithDeletions.contains(ByteBuffer.wrap(p.parent()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * rsync 3.5.0 with {@code -H --fuzzy} deadlocks when a hard-linked file vanishes or appears while it runs: the
     * sender, generator and receiver all wait, and since they keep exchanging keepalives {@code --timeout} never
     * fires; only the command timeout ends it (reproduced outside rtbackup: 4 of 6 runs hung while a script
     * linked and removed files; none without --fuzzy, none without hard links changing). --fuzzy only saves wire
     * bytes for a renamed file, so runs that may meet hard links (whole-root runs, and listed runs the validator
     * saw multi-link files in) go without it.
     */
    private List<String> listArgs(ReplicationJob job, Optional<VersionStamp> stamp, boolean fuzzy) {
        List<String> a = common(job, stamp);
        a.add("-r");
        a.add("--files-from=-");
        a.add("--from0");
        a.add("--ignore-times");
        a.add("--delete");
        a.add("--delete-missing-args");
        a.add("--force");
        // Listed runs always transfer their files (--ignore-times), so a partial file left by an interrupted run
        // is used and removed by the next run of the same path.
        a.add("--partial-dir=" + PARTIAL_DIR);
        if (fuzzy) a.add("--fuzzy");
        a.add(job.rootPath() + "/");
        a.add(job.destination().target().argument(job.remoteDir()));
        return a;
    }

    private List<String> common(ReplicationJob job, Optional<VersionStamp> stamp) {
        Destination d = job.destination();
        List<String> a = new ArrayList<>();
        a.add(rsyncPath);
        a.add("-a");
        a.add("-H");
        if (d.acls()) a.add("-A");
        if (d.xattrs()) a.add("-X");
        a.add("--numeric-ids");
        // Nanosecond time comparison. Besides the quick check, rsync uses it to decide whether a directory's
        // mtime needs re-setting after entries were created in it; at whole-second precision a directory created
        // within the second of its source's mtime keeps the creation time.
        a.add("--modify-window=-1");
        a.add("--timeout=" + Math.max(1, d.ioTimeout().toSeconds()));
        // A destination cut off by the network drops the connection attempt silently: without this, each run
        // would wait for the kernel's TCP connect timeout (about two minutes) holding one of the destination's slots.
        if (d.target() instanceof DaemonTarget) a.add("--contimeout=" + Math.max(1, d.ioTimeout().toSeconds()));
        a.add("--stats");
        a.add("--no-human-readable");
        a.add("--mkpath");
        stamp.ifPresent(s -> {
            a.add("--backup");
            a.add("--backup-dir=" + VersionLayout.backupDir(d.target(), job.remoteDir(), s));
        });
        return a;
    }

    private record PassResult(SyncOutcome outcome, int exitCode, RsyncStats stats, String error) {
    }

    private PassResult runPass(ReplicationJob job, Pass pass, Optional<String> secret, long deadlineNanos) {
        if (closed) return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE, "agent is shutting down");
        ProcessBuilder pb = new ProcessBuilder(pass.args());
        Map<String, String> env = pb.environment();
        env.put("LC_ALL", "C");
        secret.ifPresent(s -> env.put("RSYNC_PASSWORD", s));
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE,
                "cannot start '" + rsyncPath + "': " + e.getMessage() + " (install rsync >= 3.2.3 or set rsync.path)");
        }
        live.add(proc);
        String name = "rsync-" + job.commandId();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Deque<String> stderrTail = new ArrayDeque<>();
        Thread out = pump(name + "-out", () -> copyLimited(proc.getInputStream(), stdout));
        Thread err = pump(name + "-err", () -> tail(proc.getErrorStream(), stderrTail));
        Thread in = pump(name + "-in", () -> feed(proc.getOutputStream(), pass.stdin()));
        try {
            long waitNanos = Math.max(0, deadlineNanos - System.nanoTime());
            boolean exited = proc.waitFor(waitNanos, TimeUnit.NANOSECONDS);
            if (!exited) {
                killTree(proc);
                join(out, err, in);
                return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.parse(text(stdout)),
                    "rsync did not finish within the command timeout of " + job.destination().commandTimeout()
                        .toSeconds() + " s (destination." + job.destination().name() + ".command-timeout-s); killed"
                        + tailSuffix(stderrTail));
            }
            join(out, err, in);
            int code = proc.exitValue();
            RsyncStats stats = RsyncStats.parse(text(stdout));
            SyncOutcome outcome = outcomeOf(code);
            String error = code == 0 ? null : "rsync exit " + code + " (" + describeExit(code) + ")"
                + tailSuffix(stderrTail);
            if (code != 0) {
                log.debug("command {} rsync {} exited {}: {}", job.commandId(), pass.args(), code, stderrTail);
            }
            return new PassResult(outcome, code, stats, error);
        } catch (InterruptedException e) {
            killTree(proc);
            Thread.currentThread().interrupt();
            return new PassResult(SyncOutcome.FAILED, -1, RsyncStats.NONE, "interrupted (agent shutting down); killed");
        } finally {
            live.remove(proc);
        }
    }

    static SyncOutcome outcomeOf(int exitCode) {
        if (exitCode == 0) return SyncOutcome.OK;
        if (exitCode == 23 || exitCode == 24) return SyncOutcome.PARTIAL;
        return SyncOutcome.FAILED;
    }

    /** The meaning of rsync's exit codes, from its manual. */
    static String describeExit(int code) {
        return switch (code) {
            case 1 -> "syntax or usage error";
            case 2 -> "protocol incompatibility";
            case 3 -> "errors selecting input/output files, dirs";
            case 4 -> "requested action not supported";
            case 5 -> "error starting client-server protocol; e.g. authentication failed or unknown module";
            case 6 -> "daemon unable to append to log-file";
            case 10 -> "error in socket I/O; is the destination daemon reachable?";
            case 11 -> "error in file I/O";
            case 12 -> "error in rsync protocol data stream";
            case 13 -> "errors with program diagnostics";
            case 14 -> "error in IPC code";
            case 20 -> "received SIGUSR1 or SIGINT";
            case 21 -> "some error returned by waitpid()";
            case 22 -> "error allocating core memory buffers";
            case 23 -> "partial transfer due to error";
            case 24 -> "partial transfer due to vanished source files";
            case 25 -> "the --max-delete limit stopped deletions";
            case 30 -> "timeout in data send/receive";
            case 35 -> "timeout waiting for daemon connection";
            default -> "unknown exit code";
        };
    }

    private static SyncOutcome worse(SyncOutcome a, SyncOutcome b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    private static Optional<String> secret(Destination d) throws IOException {
        Optional<Password> p = d.password();
        return p.isPresent() ? Optional.of(p.get().secret()) : Optional.empty();
    }

    /**
     * Terminates rsync and every process it forked (local copies run sender, receiver and generator as separate
     * processes). The children are collected first: once the parent dies they are re-parented and unreachable.
     */
    static void killTree(Process proc) {
        List<ProcessHandle> tree = new ArrayList<>(proc.descendants().toList());
        tree.forEach(ProcessHandle::destroy);
        proc.destroy();
        try {
            if (!proc.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS)) proc.destroyForcibly();
            proc.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) h.destroyForcibly();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Process p : live) killTree(p);
    }

    // ---- process I/O --------------------------------------------------------------------------------------------

    private interface IoTask {
        void run() throws IOException;
    }

    private static Thread pump(String name, IoTask task) {
        Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (IOException e) {
                // rsync closed the pipe (it failed or was killed); its exit code says what happened.
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void join(Thread... threads) throws InterruptedException {
        for (Thread t : threads) t.join(TERM_GRACE.toMillis() * 2);
    }

    private static void feed(OutputStream os, List<ListedPath> paths) throws IOException {
        try (OutputStream out = new BufferedOutputStream(os, 1 << 16)) {
            if (paths == null) return;
            for (ListedPath p : paths) {
                // rsync skips --files-from entries starting with '#' or ';' as comments; "./" keeps such names.
                out.write(DOT_SLASH);
                out.write(p.rawPath());
                out.write(0);
            }
        }
    }

    private static void copyLimited(InputStream in, ByteArrayOutputStream sink) throws IOException {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) >= 0) {
            synchronized (sink) {
                if (sink.size() < STDOUT_MAX_BYTES) sink.write(buf, 0, Math.min(n, STDOUT_MAX_BYTES - sink.size()));
            }
        }
    }

    private static void tail(InputStream in, Deque<String> lines) throws IOException {
        // rsync prints file names in messages as they are; ISO-8859-1 keeps every byte visible as one char.
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
        String line;
        while ((line = r.readLine()) != null) {
            if (line.isBlank()) continue;
            synchronized (lines) {
                lines.addLast(line);
                if (lines.size() > STDERR_TAIL_LINES) lines.removeFirst();
            }
        }
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String tailSuffix(Deque<String> lines) {
        String joined;
        synchronized (lines) {
            if (lines.isEmpty()) return "";
            joined = String.join(" | ", lines);
        }
        if (joined.length() > ERROR_MAX_CHARS) joined = "..." + joined.substring(joined.length() - ERROR_MAX_CHARS);
        return ": " + joined;
    }
}
