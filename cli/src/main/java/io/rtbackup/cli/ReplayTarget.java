package io.rtbackup.cli;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.EventKey;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.Identifier;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.schema.WirePath;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What of a dead letter can be synced again: a host, a root, and the paths under it (none: the whole root). A
 * command's letter names them in its encoded {@code SyncCommand}; an event's letter in its {@code FileEvent}, or,
 * when the value cannot be decoded, in its key ({@link EventKey}). A path that no event may carry is widened to
 * the whole root, since its name is all that is wrong; a host or root id that breaks {@link Identifier}, or a
 * letter that names neither, has no target: the worker would only dead-letter it again.
 */
record ReplayTarget(String hostId, String rootId, List<byte[]> paths) {

    boolean wholeRoot() {
        return paths.isEmpty();
    }

    static Optional<ReplayTarget> of(StoredDeadLetter letter) {
        Optional<ReplayTarget> decoded = letter.isCommand() ? fromCommand(letter.value()) : fromEvent(letter.value());
        if (decoded.isPresent() || letter.isCommand()) return decoded;
        return EventKey.parse(letter.key()).flatMap(k -> checked(k.hostId(), k.rootId(), List.of(k.path())));
    }

    private static Optional<ReplayTarget> fromCommand(byte[] value) {
        SyncCommand c;
        try {
            c = AvroCodec.syncCommands().decode(value);
        } catch (UndecodableRecordException e) {
            return Optional.empty();
        }
        List<byte[]> paths = new ArrayList<>();
        if (!c.getFullSync()) {
            for (ByteBuffer p : c.getPaths()) paths.add(bytes(p));
        }
        return checked(c.getHostId(), c.getRootId(), paths);
    }

    private static Optional<ReplayTarget> fromEvent(byte[] value) {
        FileEvent e;
        try {
            e = AvroCodec.fileEvents().decode(value);
        } catch (UndecodableRecordException ex) {
            return Optional.empty();
        }
        List<byte[]> paths = new ArrayList<>();
        paths.add(bytes(e.getPath()));
        if (e.getOtherPath() != null) paths.add(bytes(e.getOtherPath()));
        return checked(e.getHostId(), e.getRootId(), paths);
    }

    private static Optional<ReplayTarget> checked(String host, String root, List<byte[]> paths) {
        if (!Identifier.HOST_ID.isValid(host) || !Identifier.ROOT_ID.isValid(root)) return Optional.empty();
        for (byte[] p : paths) {
            // the root itself, or a name no event may carry: the whole root covers it
            if (p.length == 0 || WirePath.eventPathProblem(p).isPresent()) {
                return Optional.of(new ReplayTarget(host, root, List.of()));
            }
        }
        return Optional.of(new ReplayTarget(host, root, List.copyOf(paths)));
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
