package io.rtbackup.worker;

import io.rtbackup.schema.SyncOutcome;
import java.util.List;

/**
 * One finished batch, as the worker saw it: for progress lines ({@code rtb up} prints one per batch) and tests.
 *
 * @param paths      paths listed in the command (0 for a full-root sync)
 * @param samplePaths up to five of them, printable (non-ASCII bytes as {@code \xNN}), for progress lines
 * @param events     events the batch covered
 * @param latencyMs  capture of the oldest covered event to the end of rsync, agent clock; -1 when unknown
 */
public record SyncReport(String destination, String hostId, String rootId, String commandId, boolean fullSync,
                         int paths, List<String> samplePaths, int events, int attempt, SyncOutcome outcome, long bytesSent,
                         long filesTransferred, long rsyncDurationMs, long latencyMs, String error) {
}
