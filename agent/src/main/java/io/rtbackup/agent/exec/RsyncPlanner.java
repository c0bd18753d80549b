package io.rtbackup.agent.exec;

import io.rtbackup.agent.exclude.ExcludeMatcher;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.FullRoot;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.rsync.RsyncExcludes;
import io.rtbackup.agent.rsync.RsyncResult;
import io.rtbackup.agent.rsync.RsyncStdin;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The rsync invocations (push, delta) that replicate one {@link ReplicationJob}, in the order they must run: each
 * an argument list built on the destination's {@link RsyncEndpoint} (connection options, password in the
 * environment) and the listed paths that go to its stdin. Pure: it reads neither the source nor the destination.
 *
 * <p>Choices, and why:
 * <ul>
 *   <li>{@code -a -H --numeric-ids} (+ {@code -A}/{@code -X} where the destination enables them): the full state
 *   of each file including hard links among the names of one run (the validator adds a listed file's other
 *   names in the same directory). Basis passes go without {@code -H} (see below).</li>
 *   <li>Listed paths: {@code --files-from=- --from0} (implies {@code --relative}), {@code -r} (a listed directory
 *   is replicated with its contents: a renamed directory arrives whole), {@code --delete} (a listed directory's
 *   extraneous entries go; implied parent directories are not touched), {@code --force}.</li>
 *   <li>Missing paths go in a pass of their own that transfers the root recursively with {@code --delete --force},
 *   narrowed by include rules on stdin ({@link RsyncStdin.Selection}) to the missing paths, what is below them and
 *   the directories leading to them, and {@code --exclude=*} for everything else: the sender has nothing under a
 *   selected name, so the receiver deletes it as extraneous (recursively for a directory), and every other entry
 *   is excluded and so protected from {@code --delete}. Not {@code --delete-missing-args}: since the hardening of
 *   the receiver's file-list checks (Debian's 3.2.7-1+deb12u6 has it) a missing listed path whose name holds a
 *   '/' (every listed path is sent as {@code ./path}, see {@link RsyncStdin.FileList}) is refused as "invalid file
 *   mode 00" and the run fails with a protocol error; only rsync 3.5.0 accepts it again.</li>
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
 *   <li>No run has both {@code -H} and {@code --fuzzy}: rsync 3.2.7 can deadlock with the two when a listed file
 *   gets hard-linked while the run goes (see {@link #basisArgs}). The passes that carry the run's state go with
 *   {@code -H} and never fuzz; only the basis passes fuzz, and they go without {@code -H}.</li>
 *   <li>{@code --info=del1}: one "deleting" line per deleted entry, which {@link RsyncResult#stats()} counts
 *   (rsync 3.2.7's {@code --stats} reports no deletions for a push to a daemon).</li>
 *   <li>Renamed paths ({@link MoveBasis}): basis passes before the others put them in place from the replica's old
 *   copies: one for the files renamed within their directory ({@code --fuzzy} finds the old copy beside the new
 *   name), and one per new directory of moved files and renamed directories, with {@code --copy-dest} at the old
 *   directories. The deletion pass runs after them, so the old copies are still there.</li>
 *   <li>{@code --mkpath}: the destination's {@code <prefix>/<host>/<root>} directories are created on first
 *   use.</li>
 *   <li>The root's excludes ({@link RsyncExcludes}, the same decisions as capture's {@link ExcludeMatcher}): every
 *   pass whose transfer root is the root carries them as {@code --filter} rules, ahead of any include rule of
 *   the deletion pass, so nothing they match is sent, and what the replica holds that they match is protected
 *   from {@code --delete} (also inside a directory the deletion pass removes: such a directory stays with the
 *   excluded entries in it). A listed path that they match, or that lies below a directory they match, is dropped
 *   from the run before rsync sees it. Only full-root runs to a destination with {@code exclude-delete=true} add
 *   {@code --delete-excluded}, which removes such replica entries; never the deletion pass, whose catch-all
 *   {@code --exclude=*} would then delete everything it does not select. A basis pass is rooted at its new
 *   directory, where a rule anchored at the root would mean something else: for a root with anchored rules only
 *   relocations into the root itself get one (the others are sent without a basis, which costs bandwidth).</li>
 *   <li>Kept versions (destination {@code keep-versions=true}): {@code --backup --backup-dir=<dir>}, where
 *   {@code <dir>} is one version dir per run outside the mirrored tree ({@link VersionLayout}), stamped when the
 *   run starts. All passes of a run share it. rsync moves every file it would overwrite or delete (also the
 *   contents of a deleted directory) there, creating the dir only when there is one.</li>
 * </ul>
 */
final class RsyncPlanner {
    /** Relative name of rsync's partial directory on the destination (per destination directory). */
    static final String PARTIAL_DIR = ".rtb-partial~";

    /**
     * One rsync invocation: its arguments and what goes to its stdin ({@link RsyncStdin#NONE}, the listed paths of a
     * transfer as an {@link RsyncStdin.FileList}, or the rules of a deletion pass as an {@link RsyncStdin.Selection}).
     * {@code basis}: a basis pass, which only saves bandwidth (the passes after it transfer the same paths anyway),
     * so its failure does not fail the run.
     */
    record Pass(List<String> args, RsyncStdin stdin, boolean basis) {
        Pass(List<String> args, RsyncStdin stdin) {
            this(args, stdin, false);
        }

    }

    private RsyncPlanner() {
    }

    /**
     * The invocations for {@code job} against {@code endpoint}; {@code stamp}: the run's version dir, if kept;
     * {@code moved}: the job's renamed paths that get basis passes ahead of the others.
     */
    static List<Pass> plan(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp,
            MoveBasis.Bases moved) {
        if (job.selection() instanceof FullRoot) {
            RsyncArgs a = common(job, endpoint, stamp, true);
            a.addAll(job.excludes().filterArgs());
            a.add("--delete");
            if (job.destination().excludeDelete() && !job.excludes().isEmpty()) a.add(RsyncExcludes.DELETE_EXCLUDED);
            // Deletions after the transfer: a directory's extraneous entries go once its new content is in place.
            a.add("--delete-delay");
            // No --fuzzy: the run goes with -H (see basisArgs).
            // No --partial-dir: with the quick check an unchanged file is not transferred, so a partial file an
            // interrupted run left for it would never be used nor removed; without the option (which protects
            // the directory from --delete) the whole-root run deletes such leftovers as extraneous.
            return List.of(new Pass(build(a, job), RsyncStdin.NONE));
        }
        ExcludeMatcher excluded = new ExcludeMatcher(job.excludes().globs());
        List<byte[]> present = new ArrayList<>();
        List<byte[]> missing = new ArrayList<>();
        for (ListedPath p : ((Paths) job.selection()).paths()) {
            if (excluded.excluded(p.rawPath())) continue;
            (p.presence() == Presence.MISSING ? missing : present).add(p.rawPath());
        }
        List<Pass> passes = new ArrayList<>();
        List<byte[]> inPlace = moved.inPlace().stream().filter(p -> !excluded.excluded(p)).toList();
        if (!inPlace.isEmpty()) {
            RsyncArgs a = basisArgs(job, endpoint, stamp, false);
            a.filesFromStdin();
            passes.add(new Pass(build(a, job), new RsyncStdin.FileList(inPlace), true));
        }
        for (MoveBasis.Relocation r : moved.relocations()) {
            basisPass(job, endpoint, stamp, r, excluded).ifPresent(passes::add);
        }
        if (!present.isEmpty()) {
            passes.add(new Pass(listArgs(job, endpoint, stamp), new RsyncStdin.FileList(present)));
        }
        if (!missing.isEmpty()) {
            passes.add(new Pass(deletionArgs(job, endpoint, stamp), new RsyncStdin.Selection(missing)));
        }
        return List.copyOf(passes);
    }

    /** The pass of present paths: with {@code -H}, so without {@code --fuzzy} (see {@link #basisArgs}). */
    private static List<String> listArgs(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp) {
        RsyncArgs a = common(job, endpoint, stamp, true);
        a.addAll(job.excludes().filterArgs());
        a.add("-r");
        a.filesFromStdin();
        a.add("--ignore-times", "--delete", "--force");
        // Listed runs always transfer their files (--ignore-times), so a partial file left by an interrupted run
        // is used and removed by the next run of the same path.
        a.add("--partial-dir=" + PARTIAL_DIR);
        return build(a, job);
    }

    /**
     * What every basis pass carries: {@code --fuzzy} ({@code --fuzzy --fuzzy} with {@code copyDest}, so that the
     * {@code --copy-dest} dirs are searched too), {@code --ignore-existing}, the root's excludes, and no {@code -H}.
     *
     * <p>{@code --ignore-existing}: a basis pass is for names the replica does not have yet. A name it has (a file
     * renamed over an existing one, as editors save) is its own basis in the listed pass; sent by the basis pass
     * too, it would be replaced twice in one run, and with kept versions the second backup would put the basis
     * pass's new copy over the old content in the run's version dir ({@code KeptVersionsTest}).
     *
     * <p>Why never both: rsync 3.2.7 with {@code -H --fuzzy} deadlocks when listed files get hard-linked (or a
     * linked name vanishes) while the run goes: sender, generator and receiver all wait, passing keep-alives, so
     * {@code --timeout} never fires ({@code HardLinkChurnTest}: 30 of 30 rounds of the old listed pass stalled; a
     * shell stress loop against a daemon: 6 of 75 runs with {@code -H --fuzzy}, none of 75 with either alone).
     * Without {@code -H} rsync's hard-link code is off (the sender does not even record device and inode), so a
     * fuzzing pass has nothing to wait for. A basis pass only puts renamed files in place; the passes after it
     * transfer the same paths with {@code -H} ({@code --ignore-times}: against the copy just placed, so checksums
     * only) and link on the destination what is linked on the source, replacing the separate copies the basis pass
     * wrote.
     */
    private static RsyncArgs basisArgs(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp,
            boolean copyDest) {
        RsyncArgs a = common(job, endpoint, stamp, false);
        a.addAll(job.excludes().filterArgs());
        a.add("--ignore-existing", "--fuzzy");
        if (copyDest) a.add("--fuzzy");
        return a;
    }

    /**
     * A basis pass ({@link MoveBasis}): {@code <root>/<newDir>/} into the replica's {@code <newDir>/}, the whole
     * directory or the listed names in it, with {@code --copy-dest} at each old directory (absolute, see
     * {@link RsyncEndpoint#directoryOption}) and {@code --fuzzy --fuzzy} ({@link #basisArgs}: the second looks
     * in the basis dirs too). With the quick check, a file whose old copy has the same size and mtime is copied
     * on the destination without any data on the wire; the listed pass after it then finds it in place. No
     * {@code --delete}: the listed pass and the deletion pass do that. Excludes: none when the directory or all
     * the names are excluded, or when the root has anchored rules and the directory is not the root itself (see
     * the class comment); else the excluded names are dropped and the rules go along.
     */
    private static Optional<Pass> basisPass(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp,
            MoveBasis.Relocation r, ExcludeMatcher excluded) {
        byte[] newDir = r.newDir().getBytes(StandardCharsets.UTF_8);
        if (!r.newDir().isEmpty() && (job.excludes().anchored() || excluded.excluded(newDir))) return Optional.empty();
        Optional<List<byte[]>> names = r.names().map(list -> list.stream()
            .filter(n -> !excluded.excluded(newDir.length == 0 ? n : BytePaths.join(newDir, n)))
            .toList());
        if (names.isPresent() && names.get().isEmpty()) return Optional.empty();
        RsyncArgs a = basisArgs(job, endpoint, stamp, true);
        a.add("-r");
        if (names.isPresent()) a.filesFromStdin();
        String base = job.remoteDir().isEmpty() ? "" : job.remoteDir() + "/";
        for (String old : r.oldDirs()) {
            a.add("--copy-dest=" + RsyncEndpoint.directoryOption(job.destination().target(), base + old));
        }
        String dir = r.newDir().isEmpty() ? "" : "/" + r.newDir();
        List<String> args = a.build(job.rootPath() + dir + "/",
            job.destination().target().argument(r.newDir().isEmpty() ? job.remoteDir() : base + r.newDir()));
        RsyncStdin stdin = names.<RsyncStdin>map(RsyncStdin.FileList::new).orElse(RsyncStdin.NONE);
        return Optional.of(new Pass(args, stdin, true));
    }

    /**
     * The deletion pass (see the class comment). Kept versions: {@code --backup} moves what it deletes into the
     * run's version dir like any other deletion. No {@code --partial-dir}: nothing is transferred but the
     * directories leading to the missing paths.
     */
    private static List<String> deletionArgs(ReplicationJob job, RsyncEndpoint endpoint,
            Optional<VersionStamp> stamp) {
        RsyncArgs a = common(job, endpoint, stamp, true);
        // The root's excludes first: rsync uses the first matching rule, so an excluded entry below a selected
        // path stays protected.
        a.addAll(job.excludes().filterArgs());
        a.add("-r", "--delete", "--force");
        a.selectFromStdin();
        return build(a, job);
    }

    /** {@code hardLinks}: with {@code -H}; never in a pass with {@code --fuzzy} (see {@link #basisArgs}). */
    private static RsyncArgs common(ReplicationJob job, RsyncEndpoint endpoint, Optional<VersionStamp> stamp,
            boolean hardLinks) {
        RsyncArgs a = RsyncArgs.to(endpoint).archive();
        if (hardLinks) a.add("-H");
        // Nanosecond time comparison. Besides the quick check, rsync uses it to decide whether a directory's
        // mtime needs re-setting after entries were created in it; at whole-second precision a directory created
        // within the second of its source's mtime keeps the creation time.
        a.nanosecondTimes();
        a.add("--stats", "--no-human-readable", "--info=del1");
        a.mkpath();
        stamp.ifPresent(s -> a.add("--backup",
            "--backup-dir=" + VersionLayout.backupDir(job.destination().target(), job.remoteDir(), s)));
        return a;
    }

    private static List<String> build(RsyncArgs a, ReplicationJob job) {
        return a.build(job.rootPath() + "/", job.destination().target().argument(job.remoteDir()));
    }
}
