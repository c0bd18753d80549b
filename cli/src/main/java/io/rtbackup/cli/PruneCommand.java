package io.rtbackup.cli;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.versions.VersionPruner;
import io.rtbackup.agent.versions.VersionStamp;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb prune}: deletes the kept versions that the destinations' retention expires (older than
 * {@code versions-keep-days}, beyond the newest {@code versions-keep}), for every root of this host, over rsync
 * alone. The agent does the same hourly; this is for an immediate run or a dry run.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
    description = {"Delete kept versions older than the destinations' retention (versions-keep-days, versions-keep).",
        "The agent prunes hourly by itself; use this to see (--dry-run) or apply the policy now."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:pruned (or nothing to prune)", "2:usage error", "3:a destination could not be pruned"})
final class PruneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dest-name", paramLabel = "DEST", description = "Only this destination (repeatable; default: all that keep versions).")
    List<String> only = new ArrayList<>();

    @Option(names = "--dry-run", description = "List what would be deleted, delete nothing.")
    boolean dryRun;

    @Option(names = "--remote-dir", paramLabel = "DIR",
        description = "Also prune this directory on the destinations (a root the worker routes elsewhere; repeatable).")
    List<String> remoteDirs = new ArrayList<>();

    @Mixin
    VersionsTarget target;

    Map<String, String> env = System.getenv();
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        VersionsTarget.Resolved cfg;
        if (target.config == null) {
            // Without a config the retention is unknown: pruning with a default could delete versions that the
            // rtb up run (--versions-keep-days) meant to keep.
            throw new ParameterException(spec.commandLine(), "rtb prune needs --config agent.properties (the "
                + "retention is configured there); rtb up prunes its destinations itself, hourly");
        }
        try {
            cfg = target.resolve(env);
        } catch (IllegalArgumentException | io.rtbackup.agent.config.ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        for (String name : only) {
            Destination d = cfg.exec().destinations().get(name);
            if (d == null) {
                throw new ParameterException(spec.commandLine(), "--dest-name " + name + ": no such destination; "
                    + "configured: " + cfg.exec().destinations().keySet());
            }
            if (!d.versions().keep()) {
                throw new ParameterException(spec.commandLine(), "--dest-name " + name + ": destination." + name
                    + ".keep-versions is off; it has no versions to prune");
            }
        }
        if (cfg.exec().destinations().values().stream().noneMatch(d -> d.versions().keep())) {
            out.println("rtb prune: no destination keeps versions (destination.<name>.keep-versions); nothing to do");
            out.flush();
            return 0;
        }
        Set<String> dirs = new TreeSet<>();
        try {
            for (String d : remoteDirs) dirs.add(VersionsTarget.checkRemoteDir("--remote-dir", d));
            for (String root : cfg.roots().keySet()) {
                dirs.add(VersionsTarget.checkRemoteDir("host/root", cfg.hostId() + "/" + root));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        VersionPruner pruner = new VersionPruner(cfg.exec(), d -> dirs, clock);
        try {
            List<VersionPruner.Pruned> done = pruner.pruneAll(Set.copyOf(only), dryRun);
            int total = 0;
            for (VersionPruner.Pruned p : done) {
                for (VersionStamp s : p.deleted()) {
                    out.println((dryRun ? "would delete " : "deleted ") + p.destination() + " " + p.remoteDir() + "/"
                        + s.name());
                }
                out.println(p.destination() + " " + p.remoteDir() + ": " + p.deleted().size()
                    + (dryRun ? " to delete, " : " deleted, ") + p.kept() + " kept");
                total += p.deleted().size();
            }
            out.println("rtb prune: " + total + " version dir(s) " + (dryRun ? "would be deleted (dry run)" : "deleted"));
            return 0;
        } catch (IOException e) {
            err.println("rtb prune: " + e.getMessage());
            return 3;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
