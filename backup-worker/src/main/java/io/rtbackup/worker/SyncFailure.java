package io.rtbackup.worker;

import java.util.List;

/**
 * One attempt of a batch that failed and will be retried (destination down, no result in time, partial transfer):
 * the batch is not finished, so it is no {@link SyncReport}, but an operator wants to see the error.
 *
 * @param samplePaths up to five paths, printable (non-ASCII bytes as {@code \xNN})
 */
public record SyncFailure(String destination, String hostId, String rootId, String commandId, boolean fullSync,
                          int paths, List<String> samplePaths, int attempt, String reason) {
}
