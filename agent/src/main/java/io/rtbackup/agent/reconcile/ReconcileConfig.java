package io.rtbackup.agent.reconcile;

import io.rtbackup.agent.config.ConfigException;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/**
 * When the agent reconciles each replica tree (a whole-root rsync of one root to one destination), read from
 * {@link Properties}:
 *
 * <pre>
 * reconcile.interval-h=24      # hours between two reconciliations of one tree; 0 turns them off
 * reconcile.jitter-pct=10      # each interval is lengthened or shortened by up to this share of it (0-50)
 * </pre>
 *
 * <p>A whole-root rsync reads every directory of the root and of the replica, so it runs rarely and at low CPU and
 * I/O priority; its job is to repair what capture or delivery missed, not to carry changes.
 *
 * @param interval     time between reconciliations of one tree; {@link Duration#ZERO}: never (on demand only)
 * @param jitterFraction share of the interval by which each one may come earlier or later, 0 to 0.5
 */
public record ReconcileConfig(Duration interval, double jitterFraction) {
    public static final String PREFIX = "reconcile.";
    public static final String INTERVAL_H = "reconcile.interval-h";
    public static final String JITTER_PCT = "reconcile.jitter-pct";
    static final Set<String> KEYS = Set.of(INTERVAL_H, JITTER_PCT);
    static final int DEFAULT_INTERVAL_H = 24;
    static final int DEFAULT_JITTER_PCT = 10;

    /** Daily, ±10 %. */
    public static final ReconcileConfig DEFAULT =
        new ReconcileConfig(Duration.ofHours(DEFAULT_INTERVAL_H), DEFAULT_JITTER_PCT / 100.0);

    public ReconcileConfig {
        if (interval.isNegative()) throw new IllegalArgumentException("negative interval " + interval);
        if (jitterFraction < 0 || jitterFraction > 0.5) {
            throw new IllegalArgumentException("jitter fraction " + jitterFraction + " outside 0-0.5");
        }
    }

    /** Whether reconciliations run on a schedule at all. */
    public boolean enabled() {
        return !interval.isZero();
    }

    /** Reads the {@code reconcile.*} keys; an unknown one or a bad value is a {@link ConfigException} naming it. */
    public static ReconcileConfig from(Properties props) {
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith(PREFIX) && !KEYS.contains(key)) {
                throw new ConfigException(key, "unknown setting; reconciliation settings are " + KEYS);
            }
        }
        int hours = intValue(props, INTERVAL_H, DEFAULT_INTERVAL_H, 0, 24 * 366,
            "must be the hours between two reconciliations of a tree (0: off), e.g. 24");
        int pct = intValue(props, JITTER_PCT, DEFAULT_JITTER_PCT, 0, 50,
            "must be a percentage 0-50 of the interval by which a reconciliation may come earlier or later");
        return new ReconcileConfig(Duration.ofHours(hours), pct / 100.0);
    }

    private static int intValue(Properties props, String key, int dflt, int min, int max, String rule) {
        String v = props.getProperty(key);
        if (v == null || v.isBlank()) return dflt;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(key, rule + " (" + min + "-" + max + "), got '" + v + "'");
        }
    }
}
