package io.rtbackup.cli;

import io.rtbackup.status.FleetStatus;
import io.rtbackup.status.FleetStatus.RootSwitch;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * The pause switch in {@code rtb status}'s text: every paused root (since when, why, by whom) and every switch an
 * agent has not applied yet; one line saying none is paused otherwise.
 */
final class SwitchReport {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
        .withZone(ZoneOffset.UTC);

    private SwitchReport() {}

    static void print(PrintWriter out, FleetStatus s) {
        List<RootSwitch> shown = s.switches().stream().filter(w -> w.paused() || w.pending()).toList();
        if (shown.isEmpty()) {
            if (!s.switches().isEmpty()) out.println("paused roots: none (" + s.switches().size() + " root(s) active)");
            return;
        }
        out.println("paused roots:");
        for (RootSwitch w : shown) {
            StringBuilder b = new StringBuilder("  ").append(w.host()).append(':').append(w.root());
            if (w.paused()) {
                b.append("  PAUSED since ").append(time(w.sinceMs()));
                if (!w.issuedBy().isEmpty()) b.append(" by ").append(w.issuedBy());
                if (!w.reason().isEmpty()) b.append(": ").append(w.reason());
            } else {
                b.append("  active");
            }
            if (w.pending()) {
                b.append("  (").append(w.requested().toLowerCase(Locale.ROOT)).append(" requested ")
                    .append(time(w.requestedAtMs())).append(" by ").append(w.requestedBy())
                    .append(", not applied yet: is its agent running?)");
            }
            out.println(shown(b.toString()));
        }
    }

    private static String time(long ms) {
        return ms <= 0 ? "-" : TIME.format(Instant.ofEpochMilli(ms));
    }

    /** Terminal-safe: control characters (a reason is free text) as visible escapes. */
    private static String shown(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
