package io.rtbackup.schema;

import java.util.Optional;

/**
 * The one syntax of {@code SyncCommand.remotePrefix}, the directory under a destination where a root lands: a
 * non-empty relative path of {@link Identifier#REMOTE_NAME}s separated by single {@code /}, optionally ending in
 * {@code /}. Workers check their prefix templates against it when they read their configuration; agents check each
 * command's prefix again before it becomes an rsync argument.
 *
 * <p>Empty is refused because it would put the root at the destination's top, where a full sync's {@code --delete}
 * would remove every other host's and root's replica.
 */
public final class RemotePrefix {
    private RemotePrefix() {}

    /** Why {@code prefix} cannot be a remote prefix, naming what is wrong and what is allowed; empty when it can. */
    public static Optional<String> problem(String prefix) {
        if (prefix.startsWith("/")) {
            return Optional.of("remotePrefix '" + Identifier.show(prefix) + "' is absolute; it must be relative to the "
                + "destination");
        }
        String dir = directory(prefix);
        if (dir.isEmpty()) {
            return Optional.of("remotePrefix is empty; route the root to a non-empty prefix such as <host>/<root>");
        }
        for (String c : dir.split("/", -1)) {
            if (c.equals("..")) return Optional.of("remotePrefix '" + Identifier.show(prefix) + "' contains '..'");
            Optional<String> bad = Identifier.REMOTE_NAME.problem(c);
            if (bad.isPresent()) {
                return Optional.of("remotePrefix '" + Identifier.show(prefix) + "' must be plain names separated by "
                    + "single '/': " + bad.get());
            }
        }
        return Optional.empty();
    }

    /** The directory {@code prefix} names: without its trailing slashes. */
    public static String directory(String prefix) {
        int end = prefix.length();
        while (end > 0 && prefix.charAt(end - 1) == '/') end--;
        return prefix.substring(0, end);
    }
}
