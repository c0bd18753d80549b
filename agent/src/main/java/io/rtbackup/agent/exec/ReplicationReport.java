package io.rtbackup.agent.exec;

import io.rtbackup.agent.rsync.RsyncStats;
import io.rtbackup.schema.SyncOutcome;
import java.time.Duration;
import java.util.Optional;

/** What one replication did; maps one to one onto the fields of a {@code SyncResult}. */
public record ReplicationReport(
        SyncOutcome outcome, int exitCode, RsyncStats stats, Duration duration, Optional<String> error) {

    public static ReplicationReport failedToRun(String error, Duration duration) {
        return new ReplicationReport(SyncOutcome.FAILED, -1, RsyncStats.NONE, duration, Optional.of(error));
    }
}
