package io.rtbackup.status;

import java.util.Comparator;

/**
 * What the status knows of one (host, root) of a destination while it is being assembled: unconsumed events and
 * the oldest of them, the newest success, the newest error and the newest reconciliation. Mutable, used by one read only.
 */
final class RootTally {
    /** A (host, root) pair; sorted by host, then root. */
    record Key(String host, String root) {
        static final Comparator<Key> ORDER = Comparator.comparing(Key::host).thenComparing(Key::root);
    }

    long lag;
    long oldestMs = Long.MAX_VALUE;
    long lastSuccessMs;
    long lastErrorMs;
    String lastError;
    FleetStatus.Reconcile lastReconcile;

    /** One more unconsumed event, written at {@code timestampMs}. */
    void unconsumed(long timestampMs) {
        lag++;
        oldestMs = Math.min(oldestMs, timestampMs);
    }

    void success(long at) {
        lastSuccessMs = Math.max(lastSuccessMs, at);
    }

    /** Keeps the newest reconciliation; of two at the same time, the later reported. */
    void reconciled(FleetStatus.Reconcile r) {
        if (lastReconcile == null || r.finishedAtMs() >= lastReconcile.finishedAtMs()) lastReconcile = r;
    }

    /** Keeps the newest error; of two at the same time, the later reported. */
    void error(long at, String error) {
        if (at >= lastErrorMs) {
            lastErrorMs = at;
            lastError = error;
        }
    }
}
