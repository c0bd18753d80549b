package io.rtbackup.agent.exec;

import io.rtbackup.agent.event.CaptureSequence;
import io.rtbackup.agent.exec.ValidationResult.Accepted;
import io.rtbackup.agent.exec.ValidationResult.Rejected;
import io.rtbackup.agent.exec.ValidationResult.Unavailable;
import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.schema.CapturePosition;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a dispatched command and answers every decoded command with a result: on its destination's pool thread an
 * admitted command is checked for age ({@link CommandExpiry}) and pause ({@link RootHold}), validated just before
 * rsync reads its paths, replicated and answered; commands that do not run (wrong host, unknown destination,
 * refused, rejected, expired, held, failed) are answered without rsync. Every answer is handed to the
 * {@link ResultPublisher}, which reports through {@link Settled} when it is out of the executor's hands.
 * Thread-safe (the poll thread and the pools' threads).
 */
final class CommandAnswers {
    private static final Logger log = LoggerFactory.getLogger(CommandAnswers.class);
    private static final String UNKNOWN = "unknown";

    /** Told when the answer to the command at {@code offset} is out of the executor's hands. */
    interface Settled {
        void settled(long offset, boolean handed);
    }

    private final String hostId;
    private final CommandValidator validator;
    private final RootHold hold;
    private final Replicator replicator;
    private final CommandExpiry expiry;
    private final CaptureSequence sequence;
    private final Clock clock;
    private final ExecMetrics metrics;
    private final ResultPublisher results;
    private final BooleanSupplier running;
    private final Settled settled;

    /** @param running false once the executor stops: a command that starts then is left for the restart */
    CommandAnswers(ExecutorParts parts, CommandExpiry expiry, ExecMetrics metrics, ResultPublisher results,
            BooleanSupplier running, Settled settled) {
        this.hostId = parts.hostId();
        this.validator = parts.validator();
        this.hold = parts.hold();
        this.replicator = parts.replicator();
        this.sequence = parts.sequence();
        this.clock = parts.clock();
        this.expiry = expiry;
        this.metrics = metrics;
        this.results = results;
        this.running = running;
        this.settled = settled;
    }

    /** On a destination's pool: validate now (just before rsync reads the paths), run, publish. */
    void run(SyncCommand cmd, TopicPartition readFrom, long offset) {
        if (!running.getAsBoolean()) return; // left pending: re-read after the restart
        String dest = cmd.getDestination();
        Optional<String> old = expiry.tooOld(cmd, readFrom, offset);
        if (old.isPresent()) {
            log.info("command {} host={} root={} destination={}: not running rsync, {}", cmd.getCommandId(), hostId,
                cmd.getRootId(), dest, old.get());
            answer(cmd, dest, SyncOutcome.FAILED, old, offset);
            return;
        }
        // Before the paths are looked at: every event numbered so far is in the replica after an OK. The wall
        // clock is for display only; a step of it must not decide what was replicated.
        CapturePosition position = sequence.assignedSoFar();
        long startedAtMs = clock.millis();
        try {
            Optional<String> held = hold.why(cmd.getRootId());
            if (held.isPresent()) {
                log.info("command {} host={} root={} destination={}: not run, {}", cmd.getCommandId(), hostId,
                    cmd.getRootId(), dest, held.get());
                answer(cmd, dest, SyncOutcome.REJECTED, held, offset);
                return;
            }
            ValidationResult v = validator.validate(cmd);
            if (!(v instanceof Accepted a)) {
                notRun(cmd, v, offset);
                return;
            }
            log.debug("command {} host={} root={} destination={}: running rsync for {}", cmd.getCommandId(), hostId,
                cmd.getRootId(), dest, a.job().selection());
            ReplicationReport r = replicator.replicate(a.job());
            metrics.rsyncRan(dest, r);
            results.publish(cmd, dest, r, startedAtMs, position, true, handed -> settled.settled(offset, handed));
        } catch (RuntimeException e) {
            log.error("command {} host={} root={} destination={}: failed unexpectedly", cmd.getCommandId(), hostId,
                cmd.getRootId(), dest, e);
            answer(cmd, dest, SyncOutcome.FAILED, Optional.of("agent error: " + e), offset);
        }
    }

    /** Rejects, without touching the file system, a command for another host or an unknown destination. */
    void misdirected(SyncCommand cmd, long offset) {
        notRun(cmd, validator.validate(cmd), offset);
    }

    /** Answers the result record ({@code key}, {@code value}) that answered {@code cmd} before, again. */
    void again(SyncCommand cmd, byte[] key, byte[] value, long offset) {
        results.republish(cmd, key, value, handed -> settled.settled(offset, handed));
    }

    private void notRun(SyncCommand cmd, ValidationResult v, long offset) {
        String label = validator.knowsDestination(cmd.getDestination()) ? cmd.getDestination() : UNKNOWN;
        if (v instanceof Rejected r) {
            log.warn("command {} host={} root={} destination={}: REJECTED: {}", cmd.getCommandId(), cmd.getHostId(),
                cmd.getRootId(), cmd.getDestination(), r.reason());
            answer(cmd, label, SyncOutcome.REJECTED, Optional.of(r.reason()), offset);
        } else if (v instanceof Unavailable u) {
            answer(cmd, label, SyncOutcome.FAILED, Optional.of(u.reason()), offset);
        } else {
            throw new IllegalStateException("notRun() is for commands that do not run, got " + v);
        }
    }

    /** Answers {@code cmd} without an rsync run (refused, rejected, expired, held, failed to run). */
    void answer(SyncCommand cmd, String destLabel, SyncOutcome outcome, Optional<String> error, long offset) {
        results.publish(cmd, destLabel, new ReplicationReport(outcome, -1, RsyncStats.NONE, Duration.ZERO, error), 0,
            CapturePosition.UNKNOWN, false, handed -> settled.settled(offset, handed));
    }
}
