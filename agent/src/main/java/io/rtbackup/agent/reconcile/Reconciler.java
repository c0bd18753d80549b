package io.rtbackup.agent.reconcile;

import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.ReplicationReport;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.RsyncRunner.ReplicatedTree;
import io.rtbackup.agent.exec.ValidationResult;
import io.rtbackup.agent.exec.ValidationResult.Accepted;
import io.rtbackup.agent.exec.ValidationResult.Rejected;
import io.rtbackup.agent.exec.ValidationResult.Unavailable;
import io.rtbackup.agent.rsync.RsyncPriority;
import io.rtbackup.schema.Reconciliations;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles one replica tree: a whole-root rsync of a root to a destination directory, through the executor's
 * own path, so everything a worker's full sync gets applies here too. The run is built as a full-sync
 * {@link SyncCommand} and checked by the {@link CommandValidator} (root present and a directory, remote directory
 * inside what this host may write, not in the kept versions), then run by the {@link RsyncRunner} at
 * {@link RsyncPriority#LOW} and under its lock of the tree, so it never races a command's run into the same tree.
 *
 * <p>What it found: rsync's quick check (size and nanosecond mtime) against the replica, so a file changed on the
 * destination by hand, a change capture missed, or a deletion that never arrived is transferred or deleted. The
 * count of differences is the run's regular files transferred plus its deleted entries. A directory whose only
 * difference is its time or mode is repaired too but not counted: directory times on the replica drift in normal
 * operation (a listed run sets them when it creates entries), so counting them would raise alarms for nothing;
 * a missing or extra entry inside it is counted on its own. Any count above zero means capture or delivery
 * missed something (or someone wrote into the replica): it is logged at WARN naming root, destination and count,
 * and counted in {@code rtb_agent_reconcile_differences}.
 *
 * <p>Each run is reported as a {@link SyncResult} encoded by {@link Reconciliations} to the {@link ResultSink}.
 */
public final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    private final String hostId;
    private final CommandValidator validator;
    private final RsyncRunner runner;
    private final ReconcileMetrics metrics;
    private final ResultSink results;
    private final Clock clock;
    private final Supplier<String> runIds;

    public Reconciler(String hostId, CommandValidator validator, RsyncRunner runner, ReconcileMetrics metrics,
            ResultSink results, Clock clock) {
        this(hostId, validator, runner, metrics, results, clock, () -> UUID.randomUUID().toString());
    }

    Reconciler(String hostId, CommandValidator validator, RsyncRunner runner, ReconcileMetrics metrics,
            ResultSink results, Clock clock, Supplier<String> runIds) {
        this.hostId = hostId;
        this.validator = validator;
        this.runner = runner;
        this.metrics = metrics;
        this.results = results;
        this.clock = clock;
        this.runIds = runIds;
    }

    /** Reconciles {@code tree} now, in the calling thread; reports and returns what it did. */
    public Reconciliation reconcile(ReplicatedTree tree) {
        String runId = runIds.get();
        long startedAtMs = clock.millis();
        String commandId = Reconciliations.commandId(runId); // before the builder: see Reconciliations
        SyncCommand cmd = SyncCommand.newBuilder()
            .setCommandId(commandId)
            .setHostId(hostId)
            .setRootId(tree.rootId())
            .setDestination(tree.destination())
            .setPaths(List.of())
            .setFullSync(true)
            .setIssuedAtMs(startedAtMs)
            .setReplyTo("")
            .setRemotePrefix(tree.remoteDir())
            .build();
        ValidationResult v = validator.validate(cmd);
        Reconciliation r;
        if (v instanceof Accepted a) {
            log.info("reconciling root {} with destination {} ({}): whole-root rsync at low priority, run {}",
                tree.rootId(), tree.destination(), tree.remoteDir(), runId);
            ReplicationReport rep = runner.replicate(a.job(), RsyncPriority.LOW);
            r = new Reconciliation(runId, tree.rootId(), tree.destination(), tree.remoteDir(), rep.outcome(),
                rep.exitCode(), rep.stats().filesTransferred() + rep.stats().filesDeleted(), rep.stats().bytesSent(),
                rep.duration(), rep.error());
        } else {
            String why = v instanceof Rejected j ? j.reason() : ((Unavailable) v).reason();
            SyncOutcome o = v instanceof Rejected ? SyncOutcome.REJECTED : SyncOutcome.FAILED;
            r = new Reconciliation(runId, tree.rootId(), tree.destination(), tree.remoteDir(), o, -1, 0, 0,
                Duration.ZERO, Optional.of(why));
        }
        long finishedAtMs = clock.millis();
        metrics.finished(r, finishedAtMs);
        if (!r.ok()) {
            log.warn("reconciliation {} host={} root={} destination={}: {}", runId, hostId, r.rootId(),
                r.destination(), r.describe());
        } else if (r.differences() > 0) {
            log.warn("reconciliation {} host={} root={} destination={}: {} difference(s) between the root and its "
                + "replica, now repaired: capture or delivery missed changes, or the replica was changed on the "
                + "destination", runId, hostId, r.rootId(), r.destination(), r.differences());
        } else {
            log.info("reconciliation {} host={} root={} destination={}: {}", runId, hostId, r.rootId(),
                r.destination(), r.describe());
        }
        results.publish(result(cmd, r, startedAtMs, finishedAtMs));
        return r;
    }

    private static SyncResult result(SyncCommand cmd, Reconciliation r, long startedAtMs, long finishedAtMs) {
        return SyncResult.newBuilder()
            .setCommandId(cmd.getCommandId())
            .setHostId(cmd.getHostId())
            .setRootId(cmd.getRootId())
            .setDestination(cmd.getDestination())
            .setReplyTo("")
            .setOutcome(r.outcome())
            .setExitCode(r.exitCode())
            .setFilesTransferred(r.differences())
            .setBytesSent(r.bytesSent())
            .setDurationMs(r.duration().toMillis())
            .setFinishedAtMs(finishedAtMs)
            .setError(r.error().orElse(null))
            .setStartedAtMs(startedAtMs)
            .build();
    }
}
