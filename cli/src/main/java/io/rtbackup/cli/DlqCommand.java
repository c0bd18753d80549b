package io.rtbackup.cli;

import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code rtb dlq}: the dead letters the workers gave up on ({@code rtb.dlq}), listed ({@link DlqListCommand}) and
 * brought back as rescans ({@link DlqReplayCommand}). Also the one rendering of a letter's parts for both.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true,
    description = "List the dead letters of the DLQ topic, and replay them as rescans so their paths sync again.",
    subcommands = {DlqListCommand.class, DlqReplayCommand.class, CommandLine.HelpCommand.class})
public final class DlqCommand {
    static final int EXIT_UNAVAILABLE = 3;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
        .withZone(ZoneOffset.UTC);

    /** Header text, terminal-safe: control and non-ASCII characters escaped as {@link BytePaths#show} does. */
    static String shown(String s) {
        return s == null ? "-" : BytePaths.show(s.getBytes(StandardCharsets.UTF_8));
    }

    static String time(long ms) {
        return ms < 0 ? "-" : TIME.format(Instant.ofEpochMilli(ms));
    }

    /** {@code host:root} and the paths, each escaped and quoted; "(whole root)" for none. */
    static String where(ReplayTarget t) {
        StringBuilder b = new StringBuilder(shown(t.hostId() + ":" + t.rootId()));
        if (t.wholeRoot()) return b.append(" (whole root)").toString();
        List<byte[]> paths = t.paths();
        int shownCount = Math.min(paths.size(), 3);
        for (int i = 0; i < shownCount; i++) b.append(" '").append(BytePaths.show(paths.get(i))).append('\'');
        if (paths.size() > shownCount) b.append(" (+").append(paths.size() - shownCount).append(" more)");
        return b.toString();
    }
}
