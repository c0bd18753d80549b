package io.rtbackup.agent.rsync;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The numbers from rsync's {@code --stats --no-human-readable} summary that the result carries. */
public record RsyncStats(long filesTransferred, long filesDeleted, long bytesSent, long literalBytes,
        long matchedBytes) {

    public static final RsyncStats NONE = new RsyncStats(0, 0, 0, 0, 0);

    private static final Pattern TRANSFERRED = Pattern.compile("(?m)^Number of regular files transferred: ([\\d,.]+)");
    private static final Pattern DELETED = Pattern.compile("(?m)^Number of deleted files: ([\\d,.]+)");
    private static final Pattern SENT = Pattern.compile("(?m)^Total bytes sent: ([\\d,.]+)");
    private static final Pattern LITERAL = Pattern.compile("(?m)^Literal data: ([\\d,.]+)");
    private static final Pattern MATCHED = Pattern.compile("(?m)^Matched data: ([\\d,.]+)");

    /** Parses rsync's stdout; numbers that are absent (rsync failed before the summary) count as 0. */
    public static RsyncStats parse(String stdout) {
        return new RsyncStats(find(TRANSFERRED, stdout), find(DELETED, stdout), find(SENT, stdout),
            find(LITERAL, stdout), find(MATCHED, stdout));
    }

    public RsyncStats withFilesDeleted(long n) {
        return new RsyncStats(filesTransferred, n, bytesSent, literalBytes, matchedBytes);
    }

    public RsyncStats plus(RsyncStats o) {
        return new RsyncStats(filesTransferred + o.filesTransferred, filesDeleted + o.filesDeleted,
            bytesSent + o.bytesSent, literalBytes + o.literalBytes, matchedBytes + o.matchedBytes);
    }

    private static long find(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) return 0;
        // --no-h prints plain digits; separators are stripped anyway in case a wrapper adds -h.
        String digits = m.group(1).replace(",", "").replace(".", "");
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
