package io.rtbackup.bench.report;

import java.util.Locale;

/** One figure with its unit; NaN means "not measured" (the note says why). */
public record Measure(double value, Unit unit) {

    /** How a figure is printed. */
    public enum Unit { MS, SECONDS, MIB, BYTES, PERCENT, COUNT, RATIO }

    public static Measure ms(double v) {
        return new Measure(v, Unit.MS);
    }

    public static Measure seconds(double v) {
        return new Measure(v, Unit.SECONDS);
    }

    public static Measure mib(double v) {
        return new Measure(v, Unit.MIB);
    }

    public static Measure bytes(double v) {
        return new Measure(v, Unit.BYTES);
    }

    public static Measure percent(double v) {
        return new Measure(v, Unit.PERCENT);
    }

    public static Measure count(double v) {
        return new Measure(v, Unit.COUNT);
    }

    public static Measure ratio(double v) {
        return new Measure(v, Unit.RATIO);
    }

    public static Measure missing(Unit unit) {
        return new Measure(Double.NaN, unit);
    }

    public boolean present() {
        return !Double.isNaN(value) && !Double.isInfinite(value);
    }

    public String show() {
        if (!present()) {
            return "n/a";
        }
        return switch (unit) {
            case MS -> value >= 100 ? String.format(Locale.ROOT, "%.0f ms", value)
                    : String.format(Locale.ROOT, "%.1f ms", value);
            case SECONDS -> String.format(Locale.ROOT, "%.2f s", value);
            case MIB -> String.format(Locale.ROOT, "%.0f MiB", value);
            case BYTES -> human(value);
            case PERCENT -> value >= 10 ? String.format(Locale.ROOT, "%.0f %%", value)
                    : String.format(Locale.ROOT, "%.2f %%", value);
            case COUNT -> String.format(Locale.ROOT, "%,.0f", value);
            case RATIO -> String.format(Locale.ROOT, "%.1f", value);
        };
    }

    static String human(double b) {
        if (b < 1024) {
            return String.format(Locale.ROOT, "%.0f B", b);
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
        }
        if (b < 1024.0 * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", b / 1048576);
        }
        return String.format(Locale.ROOT, "%.2f GiB", b / 1073741824.0);
    }
}
