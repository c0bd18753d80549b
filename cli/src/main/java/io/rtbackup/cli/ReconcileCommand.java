package io.rtbackup.cli;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.agent.CapturePipeline;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.RsyncRunner.ReplicatedTree;
import io.rtbackup.agent.reconcile.ReconcileMetrics;
import io.rtbackup.agent.reconcile.Reconciler;
import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.agent.reconcile.ResultSink;
import io.rtbackup.agent.rsync.RsyncVersion;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb reconcile}: reconciles this host's roots with their destinations now, in the foreground, from the agent
 * config: one whole-root rsync per (root, destination) at low CPU and I/O priority, as the agent does on its
 * schedule ({@link Reconciler}), printing per pair what it found. For operators on the host: after restoring a
 * destination from a snapshot, after editing a replica by hand, or to check a suspicion.
 *
 * <p>It runs outside the agent, so it neither takes the agent's per-tree lock nor reports to the results topic (it
 * prints instead). A file that changes on the source while both this run and the agent's command for it are in
 * flight can be left in its older state by whichever finishes last; its time differs from the source's then, so the
 * next reconciliation repairs it.
 *
 * <p>Exit codes, like {@code diff}: 0 when every tree was already in sync, 1 when differences were found (and
 * repaired), 3 when a reconciliation failed.
 */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
    description = {"Reconcile this host's roots with their destinations now: a whole-root rsync per (root, "
        + "destination) at low CPU and I/O priority, repairing and counting what capture or delivery missed.",
        "The agent does this by itself (reconcile.interval-h, default daily)."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:every tree was in sync", "1:differences were found and repaired", "2:usage error",
        "3:a reconciliation failed"})
final class ReconcileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Agent properties file.")
    Path config;

    @Option(names = "--root", paramLabel = "ROOT", description = "Only this root id (repeatable; default: all).")
    List<String> roots = new ArrayList<>();

    @Option(names = "--dest", paramLabel = "DEST",
        description = "Only this destination name (repeatable; default: all).")
    List<String> dests = new ArrayList<>();

    @Option(names = "--remote-dir", paramLabel = "DIR",
        description = "Where the root lives on the destination when the workers route it elsewhere than <host>/<root> "
            + "(needs exactly one --root).")
    String remoteDir;

    Map<String, String> env = System.getenv();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CaptureConfig capture;
        ExecConfig exec;
        try {
            Properties p = AgentConfig.read(config);
            capture = CaptureConfig.parse(p);
            exec = ExecConfig.from(p, env);
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Map<String, byte[]> all = new LinkedHashMap<>();
        CapturePipeline.watchedRoots(capture).forEach(r -> all.put(r.id(), r.absolutePath()));
        List<ReplicatedTree> trees = trees(capture.hostId(), all, exec);
        try {
            RsyncVersion.check(exec.rsyncPath());
        } catch (IllegalStateException e) {
            err.println("rtb reconcile: " + e.getMessage());
            err.flush();
            return 3;
        }
        RsyncRunner runner = new RsyncRunner(exec.rsyncPath());
        Reconciler reconciler = new Reconciler(capture.hostId(), new CommandValidator(capture.hostId(), all,
            exec.destinations()), runner, new ReconcileMetrics(new PrometheusRegistry()), ResultSink.NONE,
            Clock.systemUTC());
        long differences = 0;
        int failed = 0;
        try {
            for (ReplicatedTree t : trees) {
                Reconciliation r = reconciler.reconcile(t);
                out.println(r.describe());
                out.flush();
                differences += r.differences();
                if (!r.ok()) failed++;
            }
        } finally {
            runner.close();
        }
        out.println("rtb reconcile: " + trees.size() + " tree(s), " + differences + " difference(s) repaired"
            + (failed > 0 ? ", " + failed + " failed" : ""));
        out.flush();
        if (failed > 0) {
            err.println("rtb reconcile: " + failed + " reconciliation(s) failed; see above");
            err.flush();
            return 3;
        }
        return differences > 0 ? 1 : 0;
    }

    private List<ReplicatedTree> trees(String hostId, Map<String, byte[]> all, ExecConfig exec) {
        for (String r : roots) {
            if (!all.containsKey(r)) {
                throw new ParameterException(spec.commandLine(), "--root " + r + ": no such root; configured: "
                    + all.keySet());
            }
        }
        for (String d : dests) {
            if (!exec.destinations().containsKey(d)) {
                throw new ParameterException(spec.commandLine(), "--dest " + d + ": no such destination; configured: "
                    + exec.destinations().keySet());
            }
        }
        if (remoteDir != null && roots.size() != 1) {
            throw new ParameterException(spec.commandLine(), "--remote-dir needs exactly one --root");
        }
        String dir;
        try {
            dir = remoteDir == null ? null : VersionsTarget.checkRemoteDir("--remote-dir", remoteDir);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        List<ReplicatedTree> out = new ArrayList<>();
        for (String root : all.keySet()) {
            if (!roots.isEmpty() && !roots.contains(root)) continue;
            for (String dest : exec.destinations().keySet().stream().sorted().toList()) {
                if (!dests.isEmpty() && !dests.contains(dest)) continue;
                out.add(new ReplicatedTree(root, dest, dir != null ? dir : hostId + "/" + root));
            }
        }
        return out;
    }
}
