package io.rtbackup.worker.commands;

import io.rtbackup.schema.SyncCommand;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.offsets.OffsetRuns;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** The command for one attempt of a batch: what the agent runs, where it reports back, which events it covers. */
public final class SyncCommands {
    private SyncCommands() {
    }

    /**
     * @param remotePrefix where the batch's root lives on the destination (the route's prefix)
     * @param replyTo      the worker id results are addressed to
     * @param issuedAtMs   wall clock; the agent measures the command's age from it
     */
    public static SyncCommand of(String commandId, CommandLedger.Next next, String destination, String remotePrefix,
                                 String replyTo, long issuedAtMs) {
        Batch batch = next.batch();
        List<ByteBuffer> paths = new ArrayList<>();
        // The root itself never gets here as a path: the coalescer turns it into a full sync.
        for (PathKey p : batch.paths()) paths.add(ByteBuffer.wrap(p.bytes()));
        OptionalLong oldest = batch.oldestEventTimeNs();
        return SyncCommand.newBuilder()
            .setCommandId(commandId)
            .setHostId(batch.key().host())
            .setRootId(batch.key().root())
            .setDestination(destination)
            .setPaths(paths)
            .setFullSync(batch.fullSync())
            .setAttempt(next.attempt())
            .setIssuedAtMs(issuedAtMs)
            .setCovers(OffsetRuns.of(batch.refs()))
            .setReplyTo(replyTo)
            .setRemotePrefix(remotePrefix)
            .setOldestEventTimeNs(oldest.isPresent() ? oldest.getAsLong() : null)
            .build();
    }
}
