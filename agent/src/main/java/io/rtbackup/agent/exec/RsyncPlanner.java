package io.rtbackup.agent.exec;

import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.FullRoot;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.agent.versions.VersionStamp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The rsync invocations (push, delta) that replicate one {@link ReplicationJob}, in the order they must run: each
 * an argument list built on the destination's {@link RsyncEndpoint} (connection options, password in the
 * environment) and the listed paths that go to its stdin. Pure: it reads neither the source nor the destination.
 *
 * <p>Choices, and why:
 * <ul>
 *   <li>{@code -a -H --numeric-ids} (+ {@code -A}/{@code -X} where the destination enables them): the full state
 *   of each file including hard links among the names of one run (the validator adds a listed file's other
 *   names in the same directory).</li>
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
 *   use.</li>
 *   <li>Kept versions (destination {@code keep-versions=true}): {@code --backup --backup-dir=<dir>}, where
 *   {@code <dir>} is one version dir per run outside the mirrored tree ({@link VersionLayout}), stamped when the
 *   run starts. Both passes of a run share it. rsync moves every file it would overwrite or delete (also the
 *   contents of a deleted directory) there, creating the dir only when there is one.</li>
 * </ul>
 */
final class RsyncPlanner {
    /** Relative name of rsync's partial directory on the destination (per destination directory). */
    static final String PARTIAL_DIR = ".rtb-partial~";

    /** One rsync invocation: its arguments and the paths that go to its stdin (null: nothing, stdin closed at once). */
    record Pass(List<String> args, List<ListedPath> stdin) {
    }

    private RsyncPlanner() {
    }

    /** The invocations for {@code job} against {@code endpoint}; {@code stamp}: the run's version dir, if kept. */
    static List<Pass> plan(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp) {
        if (job.selection() instanceof FullRoot) {
            RsyncArgs a = common(job, endpoint, stamp);
            a.add("--delete");
            // Deletions after the transfer: a directory's extraneous entries go once its new content is in place.
            a.add("--delete-delay");
            // No --fuzzy: a whole-root run may meet hard-linked files that vanish under it (see listArgs).
            // No --partial-dir: with the quick check an unchanged file is not transferred, so a partial file an
            // interrupted run left for it would never be used nor removed; without the option (which protects
            // the directory from --delete) the whole-root run deletes such leftovers as extraneous.
            return List.of(new Pass(build(a, job), null));
        }
        List<ListedPath> all = ((Paths) job.selection()).paths();
        List<ListedPath> present = new ArrayList<>();
        List<ListedPath> missing = new ArrayList<>();
        for (ListedPath p : all) (p.presence() == Presence.MISSING ? missing : present).add(p);
        boolean fuzzy = !((Paths) job.selection()).hardLinks();
        if (needsTwoPasses(present, missing)) {
            return List.of(new Pass(listArgs(job, endpoint, stamp, fuzzy), present),
                new Pass(listArgs(job, endpoint, stamp, fuzzy), missing));
        }
        return List.of(new Pass(listArgs(job, endpoint, stamp, fuzzy), all));
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
    private static List<String> listArgs(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp,
            boolean fuzzy) {
        RsyncArgs a = common(job, endpoint, stamp);
        a.add("-r");
        a.filesFromStdin();
        a.add("--ignore-times", "--delete", "--delete-missing-args", "--force");
        // Listed runs always transfer their files (--ignore-times), so a partial file left by an interrupted run
        // is used and removed by the next run of the same path.
        a.add("--partial-dir=" + PARTIAL_DIR);
        if (fuzzy) a.add("--fuzzy");
        return build(a, job);
    }

    private static RsyncArgs common(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp) {
        RsyncArgs a = RsyncArgs.to(endpoint).archive().add("-H");
        // Nanosecond time comparison. Besides the quick check, rsync uses it to decide whether a directory's
        // mtime needs re-setting after entries were created in it; at whole-second precision a directory created
        // within the second of its source's mtime keeps the creation time.
        a.nanosecondTimes();
        a.add("--stats", "--no-human-readable");
        a.mkpath();
        stamp.ifPresent(s -> a.add("--backup",
            "--backup-dir=" + VersionLayout.backupDir(job.destination().target(), job.remoteDir(), s)));
        return a;
    }

    private static List<String> build(RsyncArgs a, ReplicationJob job) {
        return a.build(job.rootPath() + "/", job.destination().target().argument(job.remoteDir()));
    }
}
