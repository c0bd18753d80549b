package io.rtbackup.agent.versions;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of one version dir: the agent's UTC clock when the sync started, to the millisecond, and the first
 * characters of the command id, e.g. {@code 20261126T194012.345Z-ab12cd34}. Fixed width, so the names sort in
 * time order; the tag keeps two syncs started in the same millisecond (two agents' clocks, two passes of
 * different commands) apart.
 */
public record VersionStamp(Instant at, String tag) implements Comparable<VersionStamp> {
    private static final DateTimeFormatter FORMAT =
        DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final Pattern NAME = Pattern.compile("(\\d{8}T\\d{6}\\.\\d{3}Z)-([A-Za-z0-9]{1,8})");

    public VersionStamp {
        at = at.truncatedTo(ChronoUnit.MILLIS);
        if (!tag.matches("[A-Za-z0-9]{1,8}")) throw new IllegalArgumentException("tag '" + tag + "'");
    }

    /** A stamp for a sync of command {@code commandId} starting {@code at}. */
    public static VersionStamp of(Instant at, String commandId) {
        String t = commandId.replaceAll("[^A-Za-z0-9]", "");
        if (t.length() > 8) t = t.substring(0, 8);
        return new VersionStamp(at, t.isEmpty() ? "x" : t);
    }

    /** The stamp a version dir name stands for; empty for any other name (left alone by prune and restore). */
    public static Optional<VersionStamp> parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) return Optional.empty();
        try {
            return Optional.of(new VersionStamp(Instant.from(FORMAT.parse(m.group(1))), m.group(2)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    public String name() {
        return FORMAT.format(at) + "-" + tag;
    }

    @Override
    public int compareTo(VersionStamp o) {
        int c = at.compareTo(o.at);
        return c != 0 ? c : tag.compareTo(o.tag);
    }

    @Override
    public String toString() {
        return name();
    }
}
