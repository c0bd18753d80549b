package io.rtbackup.bench.measure;

import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the destination's rsync daemon saw since a mark: the same measure for every contender, because both push
 * to the same kind of daemon. Wire bytes are the daemon's per-connection "received N bytes" (everything the
 * client sent, protocol included); file entries are transfer-log lines for regular files whose data was
 * received ({@code >f...}).
 */
public final class DaemonLog {

    /** Totals over the connections logged since the mark. */
    public record Totals(long connections, long fileEntries, long deletions, long bytesReceived) {
    }

    private static final Pattern SESSION = Pattern.compile("sent (\\d+) bytes\\s+received (\\d+) bytes");

    private final RsyncDaemon daemon;
    private int offset;

    public DaemonLog(RsyncDaemon daemon) throws IOException {
        this.daemon = daemon;
        mark();
    }

    /** Counts from here on. */
    public void mark() throws IOException {
        offset = daemon.log().length;
    }

    public Totals sinceMark() throws IOException {
        byte[] all = daemon.log();
        String text = new String(all, offset, all.length - offset, StandardCharsets.ISO_8859_1);
        long connections = 0;
        long files = 0;
        long deletions = 0;
        long bytes = 0;
        String marker = RsyncDaemon.TRANSFER_MARKER + " ";
        for (String line : text.split("\n")) {
            int m = line.indexOf(marker);
            if (m >= 0) {
                String rest = line.substring(m + marker.length());
                if (rest.startsWith("recv >f")) {
                    files++;
                } else if (rest.startsWith("del.")) {
                    deletions++;
                }
                continue;
            }
            Matcher s = SESSION.matcher(line);
            if (s.find()) {
                connections++;
                bytes += Long.parseLong(s.group(2));
            }
        }
        return new Totals(connections, files, deletions, bytes);
    }

    /**
     * Waits until no connection is open any more (every "connect from" has its "sent/received" line) or the
     * timeout passes, so totals include the run that delivered the last change.
     */
    public Totals settle(long timeoutMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            byte[] all = daemon.log();
            String text = new String(all, offset, all.length - offset, StandardCharsets.ISO_8859_1);
            long opened = text.lines().filter(l -> l.contains("] connect from ")).count();
            long closed = text.lines().filter(l -> SESSION.matcher(l).find()).count();
            if (opened <= closed || System.currentTimeMillis() > deadline) {
                return sinceMark();
            }
            Sleep.ms(100);
        }
    }
}
