package io.rtbackup.worker.route;

import io.rtbackup.schema.Identifier;

/** One root of one source host: the unit of batching and of full-root syncs. */
public record RootKey(String host, String root) {
    public RootKey {
        if (host == null || root == null) throw new IllegalArgumentException("host and root ids are required");
    }

    /**
     * Why an event with these ids must not be taken in, or {@code null} when they are fine. The rule is the agents'
     * ({@link Identifier#HOST_ID}, {@link Identifier#ROOT_ID}): an id an agent would refuse to execute is refused
     * here at intake rather than after a command was issued for it. Ids end up in the remote prefix, so this also
     * keeps a {@code /} or {@code ..} from letting one host write over another's tree.
     */
    public static String problem(String host, String root) {
        return Identifier.HOST_ID.problem(host).or(() -> Identifier.ROOT_ID.problem(root)).orElse(null);
    }

    /** Control characters as {@code \xNN}, for messages about ids. */
    public static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return host + ":" + root;
    }
}
