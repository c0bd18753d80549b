package io.rtbackup.agent.exec;

import io.rtbackup.schema.SyncCommand;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds SyncCommands for tests. */
final class Commands {
    private Commands() {
    }

    static SyncCommand paths(String host, String root, String dest, byte[]... paths) {
        List<ByteBuffer> list = new ArrayList<>();
        for (byte[] p : paths) list.add(ByteBuffer.wrap(p));
        return base(host, root, dest).setPaths(list).setFullSync(false).build();
    }

    static SyncCommand full(String host, String root, String dest) {
        return base(host, root, dest).setPaths(List.of()).setFullSync(true).build();
    }

    static SyncCommand.Builder base(String host, String root, String dest) {
        return SyncCommand.newBuilder()
            .setCommandId(UUID.randomUUID().toString())
            .setHostId(host)
            .setRootId(root)
            .setDestination(dest)
            .setIssuedAtMs(System.currentTimeMillis())
            .setReplyTo("test-worker")
            .setCovers(List.of())
            .setRemotePrefix(null);
    }

    static byte[] b(String ascii) {
        return ascii.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
