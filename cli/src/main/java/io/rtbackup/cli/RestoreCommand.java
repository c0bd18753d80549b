package io.rtbackup.cli;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.versions.PointInTime;
import io.rtbackup.agent.versions.Restorer;
import io.rtbackup.agent.versions.VersionId;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.agent.versions.VersionStore;
import io.rtbackup.fs.BytePaths;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb restore PATH --at TIME} or {@code --version ID}: brings a file or directory back as it was at TIME, or
 * as it was in one kept version listed by {@code rtb versions} (the copy that version holds, exactly), from a
 * destination's kept versions and mirror ({@link Restorer} states the rule and its limits), into {@code --to}
 * (default {@code ./rtb-restore}) under the path relative to its root. It never overwrites: an existing target
 * is an error, and restoring into the live root means pointing {@code --to} there yourself.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = {"Bring back a file or directory as it was at a point in time, from a destination's kept versions.",
        "PATH is a path under a configured root, as on this host (absolute or relative to the current directory); "
            + "bytes that are not text are written as \\xNN, a backslash as \\\\.",
        "The copy lands in --to DIR under its root-relative path; nothing existing is ever overwritten."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:restored", "1:nothing to restore: the path did not exist at that time, or no copy of it is kept",
        "2:usage error", "3:the restore failed (destination unreachable, rsync error, target exists)"},
    footer = {"%nExamples:",
        "  rtb restore /srv/www/index.html --at 2026-11-26T14:00:00Z --config /etc/rtbackup/agent.properties",
        "  rtb restore /srv/www/docs --at -2h --from dc2 --to /tmp/undo --config /etc/rtbackup/agent.properties",
        "  rtb restore /srv/www/index.html --version ab12cd34 --config /etc/rtbackup/agent.properties",
        "  rtb restore ~/Documents/thesis.tex --at '2026-11-26 09:30' --source ~/Documents --dest /mnt/usb/backup"})
final class RestoreCommand implements Callable<Integer> {
    static final int RESTORED = 0;
    static final int NOTHING = 1;
    static final int FAILED = 3;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "The file or directory to bring back.")
    String path;

    @ArgGroup(exclusive = true, multiplicity = "1")
    When when;

    /** Which state to bring back: one of the two. */
    static final class When {
        @Option(names = "--at", required = true, paramLabel = "TIME", description = "ISO time (2026-11-26T14:00:00Z, "
            + "or local 2026-11-26T14:00 / '2026-11-26 14:00'), or relative to now (-90s, -15m, -2h, -1d, -1d12h).")
        String at;

        @Option(names = "--version", required = true, paramLabel = "ID", description = "A version listed by "
            + "'rtb versions PATH' (its ID, its whole name or a unique prefix of it; 'current': the mirror's copy).")
        String version;
    }

    @Option(names = "--from", paramLabel = "DEST", description = "Destination name (default: the only one keeping versions).")
    String from;

    @Option(names = "--to", paramLabel = "DIR", defaultValue = "rtb-restore",
        description = "Where to put the restored copy (default: ./${DEFAULT-VALUE}).")
    Path to;

    @Option(names = "--remote-dir", paramLabel = "DIR",
        description = "The root's directory on the destination when the worker routes it elsewhere (default: <host>/<root>).")
    String remoteDir;

    @Mixin
    VersionsTarget target;

    /** Environment and clock; replaced by tests. */
    Map<String, String> env = System.getenv();
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        VersionsTarget.Replica replica;
        Instant at = null;
        try {
            replica = target.replica(env, from, path, remoteDir);
            if (when.at != null) at = PointInTime.parse(when.at, clock, ZoneId.systemDefault());
        } catch (IllegalArgumentException | io.rtbackup.agent.config.ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Destination dest = replica.destination();
        byte[] rel = replica.where().rel();
        VersionStore store = replica.store();
        byte[] toDir = BytePaths.utf8(to.toAbsolutePath().normalize().toString());
        try {
            Restorer restorer = new Restorer(store, clock);
            String asOf;
            Restorer.Report report;
            if (at != null) {
                asOf = "as of " + at;
                report = restorer.restore(rel, at, toDir);
            } else {
                Optional<VersionStamp> v;
                try {
                    v = VersionId.resolve(when.version, store.versions());
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "--version: " + e.getMessage());
                }
                at = v.map(VersionStamp::at).orElseGet(clock::instant);
                asOf = v.map(s -> "of version " + s.name() + " (replaced at " + s.at() + ")").orElse("current");
                report = v.isPresent() ? restorer.restoreBefore(rel, v.get(), toDir) : restorer.restore(rel, at, toDir);
            }
            report.warning().ifPresent(w -> err.println("rtb restore: warning: " + w));
            for (Restorer.Outcome o : report.outcomes()) {
                String shown = BytePaths.show(BytePaths.join(toDir, o.path()));
                if (o instanceof Restorer.Restored r) out.println("restored " + shown + "  (from " + r.source() + ")");
                else out.println("absent   " + BytePaths.show(o.path()) + "  (created after " + at + ")");
            }
            out.println("rtb restore: " + report.restored().size() + " path(s) " + asOf + " from destination '"
                + dest.name() + "' into " + BytePaths.show(rel.length == 0 ? toDir : BytePaths.join(toDir, rel)));
            return RESTORED;
        } catch (Restorer.NothingToRestoreException e) {
            err.println("rtb restore: " + e.getMessage());
            return NOTHING;
        } catch (IOException e) {
            err.println("rtb restore: " + e.getMessage());
            return FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
