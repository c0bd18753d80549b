package io.rtbackup.cli;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.versions.VersionHistory;
import io.rtbackup.agent.versions.VersionStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.ZoneId;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rtb versions PATH}: the kept copies of a file or directory on one destination, newest first (the current
 * copy in the mirror, then each version dir holding it; {@link VersionHistory}), each with the ID that
 * {@code rtb restore PATH --version ID} takes. Output is {@link VersionsReport}'s table or JSON.
 */
@Command(name = "versions", mixinStandardHelpOptions = true,
    description = {"List the kept versions of a file or directory on a destination, newest first.",
        "PATH is a path under a configured root, as on this host, written as for 'rtb restore'. Each version's "
            + "REPLACED time is when the sync that kept it started (the copy was current until then); times are in "
            + "this host's time zone, --json gives them in UTC.",
        "Bring one back with: rtb restore PATH --version ID (same --config or --source/--dest)."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:listed", "1:no copy of PATH is kept, current or old", "2:usage error",
        "3:the listing failed (destination unreachable, rsync error)"},
    footer = {"%nExamples:",
        "  rtb versions /srv/www/index.html --config /etc/rtbackup/agent.properties",
        "  rtb versions ~/Documents/thesis.tex --source ~/Documents --dest /mnt/usb/backup --json"})
final class VersionsCommand implements Callable<Integer> {
    static final int LISTED = 0;
    static final int NONE = 1;
    static final int FAILED = 3;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "The file or directory whose versions to list.")
    String path;

    @Option(names = "--from", paramLabel = "DEST", description = "Destination name (default: the only one keeping versions).")
    String from;

    @Option(names = "--json", description = "Print the versions as JSON (field names in 'rtb versions --help').")
    boolean json;

    @Option(names = "--remote-dir", paramLabel = "DIR",
        description = "The root's directory on the destination when the worker routes it elsewhere (default: <host>/<root>).")
    String remoteDir;

    @Mixin
    VersionsTarget target;

    /** Environment and time zone; replaced by tests. */
    Map<String, String> env = System.getenv();
    ZoneId zone = ZoneId.systemDefault();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        VersionsTarget.Replica replica;
        try {
            replica = target.replica(env, from, path, remoteDir);
        } catch (IllegalArgumentException | io.rtbackup.agent.config.ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        VersionsTarget.Resolved cfg = replica.config();
        Destination dest = replica.destination();
        ReplicaPath where = replica.where();
        VersionStore store = replica.store();
        try {
            VersionHistory.History h = VersionHistory.of(store, where.rel());
            VersionsReport report = new VersionsReport(dest.name(), cfg.hostId(), where, h);
            if (json) {
                out.println(report.json());
            } else {
                report.table(out, zone);
            }
            if (h.copies().isEmpty()) {
                err.println("rtb versions: no copy of " + where.describe() + " on " + store.describe()
                    + (h.allVersions().isEmpty() ? " (no version dirs at all: is keep-versions on?)" : ""));
                return NONE;
            }
            if (!json && !dest.versions().keep()) {
                err.println("rtb versions: note: destination '" + dest.name() + "' does not keep versions");
            }
            return LISTED;
        } catch (IOException e) {
            err.println("rtb versions: " + e.getMessage());
            return FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }

}
