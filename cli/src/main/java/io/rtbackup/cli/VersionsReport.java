package io.rtbackup.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rtbackup.agent.versions.VersionHistory;
import io.rtbackup.agent.versions.VersionHistory.Copy;
import io.rtbackup.agent.versions.VersionId;
import io.rtbackup.agent.versions.VersionStore.Version;
import io.rtbackup.fs.BytePaths;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * What {@code rtb versions} prints: a table for people, JSON for scripts. Both list the copies newest first.
 *
 * <p>The table's times are in the given time zone (named in its heading; the REPLACED time to the millisecond,
 * as the version dir names it, MODIFIED to the second, as rsync lists it); names are escaped as everywhere in rtb
 * ({@link BytePaths#show}: {@code \xNN} for bytes that are not printable text, {@code \\} for a backslash).
 *
 * <p>The JSON object, whose field names are stable:
 * <pre>
 * destination   destination name            host, root, remote_dir   whose replica tree was read
 * path          root-relative path, escaped as in the table ("" for the root)
 * path_base64   the same path's exact bytes, base64 (RFC 4648 with padding): decode this, not "path"
 * versions[]    newest first, each:
 *   id            what rtb restore --version takes ("current" for the mirror's copy)
 *   current       true for the copy in the mirror
 *   version_dir   the version dir's name, e.g. 20261126T194012.345Z-ab12cd34 (null when current)
 *   replaced_at   when the sync that kept this copy started, ISO-8601 UTC with milliseconds (null when current)
 *   type          "file", "directory", "symlink" or "special"
 *   files         1, or for a directory the files, symlinks and specials kept below it
 *   bytes         the file's size, or for a directory the sum of the regular files' sizes below it
 *   modified      the copy's mtime (a directory: the newest below it), ISO-8601 UTC in whole seconds, or null
 * </pre>
 */
final class VersionsReport {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter REPLACED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT);
    private static final DateTimeFormatter MODIFIED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    private final String destination;
    private final String host;
    private final ReplicaPath where;
    private final VersionHistory.History history;

    VersionsReport(String destination, String host, ReplicaPath where, VersionHistory.History history) {
        this.destination = destination;
        this.host = host;
        this.where = where;
        this.history = history;
    }

    void table(PrintWriter out, ZoneId zone) {
        out.printf(Locale.ROOT, "versions of %s (root %s of host %s) on destination '%s' (%s), newest first; "
            + "times in %s%n", where.describe(), where.rootId(), host, destination, where.remoteDir(), zone.getId());
        if (history.copies().isEmpty()) {
            out.println("(none)");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "REPLACED", "MODIFIED", "TYPE", "FILES", "BYTES"});
        for (Copy c : history.copies()) {
            rows.add(new String[] {id(c),
                c.source() instanceof Version v ? REPLACED.format(v.stamp().at().atZone(zone)) : "-",
                c.newestMtimeSecond() == 0 ? "-" : MODIFIED.format(Instant.ofEpochSecond(c.newestMtimeSecond()).atZone(zone)),
                type(c), String.valueOf(c.files()), String.valueOf(c.bytes())});
        }
        int[] w = new int[6];
        for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            out.printf(Locale.ROOT, "%-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %-" + w[3] + "s  %" + w[4]
                + "s  %" + w[5] + "s%n", (Object[]) r);
        }
    }

    String json() {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("destination", destination);
        root.put("host", host);
        root.put("root", where.rootId());
        root.put("remote_dir", where.remoteDir());
        root.put("path", BytePaths.show(where.rel()));
        root.put("path_base64", Base64.getEncoder().encodeToString(where.rel()));
        ArrayNode versions = root.putArray("versions");
        for (Copy c : history.copies()) {
            ObjectNode v = versions.addObject();
            v.put("id", id(c));
            v.put("current", c.isCurrent());
            if (c.source() instanceof Version ver) {
                v.put("version_dir", ver.stamp().name());
                v.put("replaced_at", ver.stamp().at().toString());
            } else {
                v.putNull("version_dir");
                v.putNull("replaced_at");
            }
            v.put("type", type(c));
            v.put("files", c.files());
            v.put("bytes", c.bytes());
            if (c.newestMtimeSecond() == 0) v.putNull("modified");
            else v.put("modified", Instant.ofEpochSecond(c.newestMtimeSecond()).toString());
        }
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the versions as JSON", e);
        }
    }

    /** The ID of a listed copy, as {@code rtb restore --version} takes it. */
    private String id(Copy c) {
        return c.source() instanceof Version v ? VersionId.shortId(v.stamp(), history.allVersions()) : VersionId.CURRENT;
    }

    private static String type(Copy c) {
        return switch (c.type()) {
            case 'f' -> "file";
            case 'd' -> "directory";
            case 'L' -> "symlink";
            default -> "special";
        };
    }
}
