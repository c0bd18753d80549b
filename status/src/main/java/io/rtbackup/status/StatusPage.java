package io.rtbackup.status;

import io.rtbackup.status.FleetStatus.DestinationStatus;
import io.rtbackup.status.FleetStatus.RecentSync;
import io.rtbackup.status.FleetStatus.RootStatus;
import io.rtbackup.status.FleetStatus.WorkerView;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The status page as one self-contained HTML document: inline style, no script, no external asset (it must work
 * offline and behind a firewall), refreshed by the browser every few seconds. Every value from Kafka is escaped:
 * host, root and destination names come from configuration, but paths and errors come from hostile file names
 * and rsync output.
 */
public final class StatusPage {
    static final int REFRESH_SECONDS = 5;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
        .withZone(ZoneOffset.UTC);

    private StatusPage() {}

    /** The page for a snapshot. */
    public static String render(FleetStatus s, String title) {
        return render(s, title, null);
    }

    /** The page for a snapshot, with the pause switch's buttons when {@code switchToken} is not null. */
    public static String render(FleetStatus s, String title, String switchToken) {
        StringBuilder h = new StringBuilder(8192);
        head(h, title);
        h.append("<p class=\"meta\">Events topic <code>").append(esc(s.eventsTopic())).append("</code>, read ")
            .append(esc(time(s.takenAtMs()))).append("; this page reloads every ").append(REFRESH_SECONDS)
            .append(" s. Machine-readable: <a href=\"status.json\">status.json</a>.</p>\n");

        h.append("<h2>Destinations</h2>\n<table id=\"destinations\">\n<tr><th>Destination</th><th>Lag (events)</th>"
            + "<th>Lag (s)</th><th>Breaker</th><th>Paused</th><th>Workers</th><th>Syncs OK</th><th>Failed attempts</th>"
            + "<th>Last success</th><th>Last error</th></tr>\n");
        if (s.destinations().isEmpty()) h.append("<tr><td colspan=\"10\">no destination known yet</td></tr>\n");
        for (DestinationStatus d : s.destinations()) {
            h.append("<tr data-destination=\"").append(esc(d.name())).append("\" class=\"")
                .append(d.lagEvents() > 0 ? "lagging" : "current").append("\">")
                .append(td(d.name())).append(tdNum(d.lagEvents())).append(tdNum(String.format(Locale.ROOT, "%.1f", d.lagSeconds())))
                .append("<td class=\"breaker-").append(esc(d.breakerState())).append("\">").append(esc(d.breakerState()))
                .append("</td>").append(td(d.paused() ? "yes" : "no")).append(td(workers(d.workers())))
                .append(tdNum(d.syncsOk())).append(tdNum(d.syncsFailed())).append(td(time(d.lastSuccessMs())))
                .append(td(d.lastError() == null ? "" : time(d.lastErrorMs()) + ": " + d.lastError())).append("</tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>Hosts and roots</h2>\n<table id=\"roots\">\n<tr><th>Destination</th><th>Host</th><th>Root</th>"
            + "<th>Lag (events)</th><th>Lag (s)</th><th>Last success</th><th>Last error</th><th>Last reconciliation</th>"
            + "</tr>\n");
        for (DestinationStatus d : s.destinations()) {
            for (RootStatus r : d.roots()) {
                h.append("<tr>").append(td(d.name())).append(td(r.host())).append(td(r.root()))
                    .append(tdNum(r.lagEvents() + (r.lagComplete() ? "" : "+")))
                    .append(tdNum(String.format(Locale.ROOT, "%.1f", r.lagSeconds()))).append(td(time(r.lastSuccessMs())))
                    .append(td(r.lastError() == null ? "" : time(r.lastErrorMs()) + ": " + r.lastError()))
                    .append(reconcileCell(r.lastReconcile())).append("</tr>\n");
            }
        }
        h.append("</table>\n");

        h.append("<h2>Stuck paths</h2>\n<table id=\"stuck-paths\">\n<tr><th>Destination</th><th>Host</th><th>Root</th>"
            + "<th>Path</th><th>Reason</th><th>Since</th><th>Attempts</th></tr>\n");
        boolean anyStuck = false;
        for (DestinationStatus d : s.destinations()) {
            for (FleetStatus.StuckPath p : d.stuckPaths()) {
                anyStuck = true;
                h.append("<tr class=\"stuck\">").append(td(d.name())).append(td(p.host())).append(td(p.root()))
                    .append(td(p.path())).append(td(p.reason())).append(td(time(p.sinceMs())))
                    .append(tdNum(p.attempts())).append("</tr>\n");
            }
        }
        if (!anyStuck) h.append("<tr><td colspan=\"7\">none: every source path could be read</td></tr>\n");
        h.append("</table>\n");
        h.append(SwitchSection.render(s, switchToken));

        List<Object[]> recent = new ArrayList<>();
        for (DestinationStatus d : s.destinations()) for (RecentSync r : d.recentSyncs()) recent.add(new Object[] {d.name(), r});
        recent.sort(Comparator.comparingLong((Object[] o) -> ((RecentSync) o[1]).finishedAtMs()).reversed());
        h.append("<h2>Recent syncs</h2>\n<table id=\"recent-syncs\">\n<tr><th>Time</th><th>Destination</th><th>Host</th>"
            + "<th>Root</th><th>Outcome</th><th>What</th><th>Bytes sent</th><th>rsync ms</th><th>Change to replica ms</th>"
            + "<th>Error</th></tr>\n");
        if (recent.isEmpty()) h.append("<tr><td colspan=\"10\">no sync reported yet</td></tr>\n");
        for (Object[] o : recent) {
            RecentSync r = (RecentSync) o[1];
            String what = r.fullSync() ? "full sync of the root"
                : r.paths() + (r.paths() == 1 ? " path: " : " paths: ") + String.join(", ", r.samplePaths())
                    + (r.paths() > r.samplePaths().size() ? ", ..." : "");
            h.append("<tr class=\"outcome-").append(esc(r.outcome())).append("\">").append(td(time(r.finishedAtMs())))
                .append(td((String) o[0])).append(td(r.host())).append(td(r.root()))
                .append(td(r.outcome() + (r.attempt() > 1 ? " (attempt " + r.attempt() + ")" : ""))).append(td(what))
                .append(tdNum(r.bytesSent())).append(tdNum(r.durationMs()))
                .append(tdNum(r.latencyMs() < 0 ? "" : String.valueOf(r.latencyMs())))
                .append(td(r.error() == null ? "" : r.error())).append("</tr>\n");
        }
        h.append("</table>\n</body>\n</html>\n");
        return h.toString();
    }

    /** The page when Kafka cannot be read: the reason, and the same refresh so it recovers by itself. */
    public static String unavailable(String reason, String title) {
        StringBuilder h = new StringBuilder();
        head(h, title);
        h.append("<p class=\"error\" id=\"unavailable\">Status unavailable: ").append(esc(reason)).append("</p>\n")
            .append("</body>\n</html>\n");
        return h.toString();
    }

    private static void head(StringBuilder h, String title) {
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">\n")
            .append("<title>").append(esc(title)).append("</title>\n<style>\n")
            .append("body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}\n")
            .append("table{border-collapse:collapse;margin-bottom:1.5em;background:#fff}\n")
            .append("th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n")
            .append("th{background:#e8eef5}td.num{text-align:right;font-variant-numeric:tabular-nums}\n")
            .append("tr.lagging td:first-child{border-left:6px solid #d9534f}tr.current td:first-child{border-left:6px solid #5cb85c}\n")
            .append(".breaker-OPEN{background:#f2dede}.breaker-HALF_OPEN{background:#fcf8e3}.breaker-CLOSED{background:#dff0d8}\n")
            .append("tr.outcome-RETRYING td,tr.outcome-FAILED td,tr.stuck td{background:#fdf0f0}.error{color:#a94442}\n")
            .append(".reconcile-differences{background:#fcf8e3}.reconcile-failed{background:#f2dede}\n")
            .append(".meta{color:#666}code{background:#eee;padding:0 .2em}\n")
            .append("</style>\n</head>\n<body>\n<h1>").append(esc(title)).append("</h1>\n");
    }

    /** Marked when it found differences (capture or delivery missed something) or failed. */
    private static String reconcileCell(FleetStatus.Reconcile r) {
        if (r == null) return "<td class=\"reconcile-none\">none recently</td>";
        String cls = !r.outcome().equals("OK") ? "reconcile-failed" : r.differences() > 0 ? "reconcile-differences"
            : "reconcile-in-sync";
        return "<td class=\"" + cls + "\">" + esc(time(r.finishedAtMs()) + ": " + describe(r)) + "</td>";
    }

    /** A reconciliation in words, for the page and {@code rtb status}. */
    public static String describe(FleetStatus.Reconcile r) {
        if (!r.outcome().equals("OK")) {
            return r.outcome() + (r.differences() > 0 ? " after " + r.differences() + " difference(s)" : "")
                + (r.error() == null ? "" : ": " + r.error());
        }
        return r.differences() == 0 ? "in sync" : r.differences() + " difference(s) found and repaired";
    }

    private static String workers(List<WorkerView> ws) {
        if (ws.isEmpty()) return "none reporting";
        List<String> parts = new ArrayList<>();
        for (WorkerView w : ws) {
            parts.add(w.workerId() + (w.stale() ? " (stale since " + time(w.publishedAtMs()) + ")"
                : " (" + w.assignedPartitions() + " partitions, " + w.commandsInFlight() + " in flight)"));
        }
        return String.join(", ", parts);
    }

    private static String time(long ms) {
        return ms <= 0 ? "" : TIME.format(Instant.ofEpochMilli(ms));
    }

    private static String td(String text) {
        return "<td>" + esc(text) + "</td>";
    }

    private static String tdNum(Object n) {
        return "<td class=\"num\">" + esc(String.valueOf(n)) + "</td>";
    }

    /**
     * HTML-escapes text for element content and double-quoted attributes; control characters (which a file name
     * may contain) become visible {@code \xNN} instead of reaching the browser.
     */
    public static String esc(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }
}
