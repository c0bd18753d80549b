package io.rtbackup.schema;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The Kafka key of the pause switch, the one rule for it: a {@link ControlCommand} on the control topic and an
 * agent's {@link RootControlState} on the root-state topic are both keyed {@code <host>/<root>}, so compaction keeps
 * each root's latest switch position and latest applied state. Neither a host id nor a root id can hold a {@code /}
 * ({@link Identifier}), so the key splits back unambiguously.
 */
public final class ControlKey {

    private ControlKey() {}

    public static byte[] of(String hostId, String rootId) {
        return (hostId + "/" + rootId).getBytes(StandardCharsets.UTF_8);
    }

    /** The (host, root) a key names; empty when it is not of the form {@code <host>/<root>}. */
    public static Optional<String[]> split(byte[] key) {
        if (key == null) return Optional.empty();
        String k = new String(key, StandardCharsets.UTF_8);
        int slash = k.indexOf('/');
        if (slash <= 0 || slash != k.lastIndexOf('/') || slash == k.length() - 1) return Optional.empty();
        return Optional.of(new String[] {k.substring(0, slash), k.substring(slash + 1)});
    }
}
