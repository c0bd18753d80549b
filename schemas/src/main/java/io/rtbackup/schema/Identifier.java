package io.rtbackup.schema;

import java.util.Optional;

/**
 * The names that travel between agents and workers, and the one rule for each. Workers check them when an event
 * arrives and agents when they read their configuration, so a name one side accepts is never refused by the other
 * (an event with a host id the agent would refuse to execute only ends in the dead-letter queue).
 *
 * <p>Host ids, root ids and remote directory names become directory names on the destination and travel as process
 * arguments, which the JVM encodes with the (POSIX, ASCII) locale; so each is plain ASCII from a small set, never
 * {@code .} or {@code ..}, and at most NAME_MAX bytes. Root ids and destination names are also parts of
 * configuration keys ({@code root.<id>.path}, {@code destination.<name>.url}), so they have no dot. Where agent
 * and worker used to differ, the stricter rule was kept: an agent executes what passes.
 */
public enum Identifier {
    /** {@code FileEvent.hostId}, {@code SyncCommand.hostId}: one directory of the default remote path. */
    HOST_ID("host id", "._@+=,~-", false, 255),
    /** {@code FileEvent.rootId}, {@code SyncCommand.rootId}: the key of {@code root.<id>.path}. */
    ROOT_ID("root id", "_-", false, 64),
    /** {@code SyncCommand.destination}: the key of {@code destination.<name>.*} on both agent and worker. */
    DESTINATION("destination name", "_-", true, 64),
    /** One directory of {@code SyncCommand.remotePrefix}, of a destination URL's prefix, or its module. */
    REMOTE_NAME("remote directory name", "._@+=,~-", false, 255);

    private final String what;
    private final String punctuation;
    private final boolean alphanumericFirst;
    private final int maxLength;

    Identifier(String what, String punctuation, boolean alphanumericFirst, int maxLength) {
        this.what = what;
        this.punctuation = punctuation;
        this.alphanumericFirst = alphanumericFirst;
        this.maxLength = maxLength;
    }

    /** What this rule allows, in words. */
    private String allowed() {
        StringBuilder b = new StringBuilder("1-").append(maxLength).append(" characters of A-Z a-z 0-9");
        for (char c : punctuation.toCharArray()) b.append(' ').append(c);
        if (alphanumericFirst) b.append(", starting with a letter or digit");
        if (punctuation.indexOf('.') >= 0) b.append(", not '.' or '..'");
        return b.toString();
    }

    public boolean isValid(String value) {
        return problem(value).isEmpty();
    }

    /** Why {@code value} breaks this rule, naming the offence and what is allowed; empty when it is fine. */
    public Optional<String> problem(String value) {
        String offence = offence(value);
        return offence == null ? Optional.empty() : Optional.of(offence + "; a " + what + " is " + allowed());
    }

    private String offence(String value) {
        if (value == null) return what + " is missing";
        if (value.isEmpty()) return what + " is empty";
        if (value.length() > maxLength) return what + " '" + show(value) + "' has " + value.length() + " characters";
        if (value.equals(".") || value.equals("..")) return what + " '" + value + "' is a relative path component";
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!allows(c)) {
                return what + " '" + show(value) + "' contains " + (c == ' ' ? "a space" : "'" + show(String.valueOf(c)) + "'");
            }
            if (i == 0 && alphanumericFirst && !alphanumeric(c)) {
                return what + " '" + show(value) + "' starts with '" + c + "'";
            }
        }
        return null;
    }

    private boolean allows(char c) {
        return alphanumeric(c) || punctuation.indexOf(c) >= 0;
    }

    private static boolean alphanumeric(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    /** Printable ASCII as is, everything else as {@code \xNN} or {@code \}{@code uNNNN}, so messages stay on one line. */
    static String show(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '\\') b.append(c);
            else if (c < 0x100) b.append(String.format("\\x%02x", (int) c));
            else b.append(String.format("\\u%04x", (int) c));
        }
        return b.toString();
    }
}
