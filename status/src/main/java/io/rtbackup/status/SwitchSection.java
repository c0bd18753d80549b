package io.rtbackup.status;

import static io.rtbackup.status.StatusPage.esc;

import io.rtbackup.status.FleetStatus.RootSwitch;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The "Pause switch" part of the status page: per root the agent's state (paused since when, why, by whom; what
 * its last resume caught up) and, when the page serves the switch, a button that POSTs a pause or resume to
 * {@value SwitchHandler#PATH} with the page's anti-forgery token in a hidden field (see {@link SwitchHandler}). Every
 * value is escaped: reasons are free text.
 */
final class SwitchSection {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
        .withZone(ZoneOffset.UTC);

    private SwitchSection() {}

    /** @param formToken the switch's anti-forgery token; null when the page serves no switch (no buttons) */
    static String render(FleetStatus s, String formToken) {
        StringBuilder h = new StringBuilder();
        h.append("<h2>Pause switch</h2>\n<table id=\"switches\">\n<tr><th>Host</th><th>Root</th><th>State</th>"
            + "<th>Since</th><th>Reason</th><th>By</th><th>Last change</th>")
            .append(formToken == null ? "" : "<th>Switch</th>").append("</tr>\n");
        if (s.switches().isEmpty()) {
            h.append("<tr><td colspan=\"").append(formToken == null ? 7 : 8)
                .append("\">no agent has reported its roots yet</td></tr>\n");
        }
        for (RootSwitch w : s.switches()) {
            String state = (w.paused() ? "paused" : "active") + (w.pending() ? " (" + w.requested().toLowerCase()
                + " requested " + time(w.requestedAtMs()) + ", not applied yet)" : "");
            h.append("<tr data-host=\"").append(esc(w.host())).append("\" data-root=\"").append(esc(w.root()))
                .append("\" class=\"").append(w.paused() ? "root-paused" : "root-active").append("\">")
                .append(td(w.host())).append(td(w.root())).append("<td class=\"switch-state\">").append(esc(state))
                .append("</td>").append(td(w.paused() ? time(w.sinceMs()) : "")).append(td(w.reason()))
                .append(td(w.issuedBy())).append("<td class=\"switch-note\">").append(esc(w.note())).append("</td>");
            if (formToken != null) h.append("<td>").append(form(w, formToken)).append("</td>");
            h.append("</tr>\n");
        }
        return h.append("</table>\n").toString();
    }

    private static String form(RootSwitch w, String token) {
        String action = w.paused() ? "resume" : "pause";
        String id = action + "-" + w.host() + "-" + w.root();
        StringBuilder f = new StringBuilder("<form method=\"post\" action=\"").append(SwitchHandler.PATH).append("\">")
            .append(hidden(SwitchHandler.TOKEN_FIELD, token)).append(hidden("host", w.host()))
            .append(hidden("root", w.root())).append(hidden("action", action));
        if (!w.paused()) f.append("<input name=\"reason\" placeholder=\"reason\" size=\"16\"> ");
        return f.append("<button type=\"submit\" id=\"").append(esc(id)).append("\">")
            .append(w.paused() ? "Resume" : "Pause").append("</button></form>").toString();
    }

    private static String hidden(String name, String value) {
        return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + esc(value) + "\">";
    }

    private static String td(String text) {
        return "<td>" + esc(text) + "</td>";
    }

    private static String time(long ms) {
        return ms <= 0 ? "" : TIME.format(Instant.ofEpochMilli(ms));
    }
}
