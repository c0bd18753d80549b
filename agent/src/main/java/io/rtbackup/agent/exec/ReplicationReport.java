package io.rtbackup.agent.exec;

import io.rtbackup.agent.rsync.RsyncFileErrors.FileError;
import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one replication did; maps one to one onto the fields of a {@code SyncResult}. {@code side}: which end kept
 * a PARTIAL run from completing ({@link FailureSide#NONE} when nothing did); {@code stuck}: the source paths it
 * could not read (side SOURCE), which were left out while everything else arrived.
 */
public record ReplicationReport(SyncOutcome outcome, int exitCode, RsyncStats stats, Duration duration,
        Optional<String> error, FailureSide side, List<FileError> stuck) {

    public ReplicationReport {
        stuck = List.copyOf(stuck);
    }

    /** A report without per-file classification: NONE when OK, UNKNOWN otherwise. */
    public ReplicationReport(SyncOutcome outcome, int exitCode, RsyncStats stats, Duration duration,
            Optional<String> error) {
        this(outcome, exitCode, stats, duration, error,
            outcome == SyncOutcome.OK ? FailureSide.NONE : FailureSide.UNKNOWN, List.of());
    }

    public static ReplicationReport failedToRun(String error, Duration duration) {
        return new ReplicationReport(SyncOutcome.FAILED, -1, RsyncStats.NONE, duration, Optional.of(error));
    }
}
