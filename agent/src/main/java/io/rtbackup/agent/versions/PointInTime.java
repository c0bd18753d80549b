package io.rtbackup.agent.versions;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the time a restore asks for: an ISO instant or offset date-time ({@code 2026-11-26T14:00:00Z},
 * {@code 2026-11-26T15:00+01:00}), a local date-time or date in the given zone ({@code 2026-11-26T14:00},
 * {@code 2026-11-26 14:00:30}, {@code 2026-11-26}), or a time relative to now ({@code -90s}, {@code -15m},
 * {@code -2h}, {@code -3d}, combinations such as {@code -1d12h}), or {@code now}.
 */
public final class PointInTime {
    private static final Pattern RELATIVE = Pattern.compile("-((?:\\d+[dhms])+)");
    private static final Pattern PART = Pattern.compile("(\\d+)([dhms])");

    private PointInTime() {
    }

    public static Instant parse(String text, Clock clock, ZoneId zone) {
        String s = text.trim();
        if (s.equalsIgnoreCase("now")) return clock.instant();
        Matcher m = RELATIVE.matcher(s.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            Duration d = Duration.ZERO;
            Matcher p = PART.matcher(m.group(1));
            while (p.find()) {
                long n = Long.parseLong(p.group(1));
                d = d.plus(switch (p.group(2)) {
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                });
            }
            return clock.instant().minus(d);
        }
        String iso = s.length() > 10 && s.charAt(10) == ' ' ? s.substring(0, 10) + "T" + s.substring(11) : s;
        try {
            return Instant.parse(iso);
        } catch (DateTimeParseException e) {
            // next form
        }
        try {
            return OffsetDateTime.parse(iso).toInstant();
        } catch (DateTimeParseException e) {
            // next form
        }
        try {
            return LocalDateTime.parse(iso).atZone(zone).toInstant();
        } catch (DateTimeParseException e) {
            // next form
        }
        try {
            return LocalDate.parse(iso).atStartOfDay(zone).toInstant();
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("'" + text + "' is not a time: use an ISO time such as "
                + "2026-11-26T14:00:00Z or 2026-11-26T14:00 (local), or a relative one such as -2h, -30m, -1d");
        }
    }
}
