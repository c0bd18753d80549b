package io.rtbackup.worker.coalesce;

import io.rtbackup.worker.config.CoalesceSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Coalescer}'s timing rule: when a pending change is due (at once on the leading edge; otherwise after the
 * debounce of quiet or the max delay since its first change, whichever comes first) and which of a root's pending
 * changes go out together now (at most {@code maxInFlightPerRoot} commands per root, at most {@code batchMaxPaths}
 * paths per batch, a full batch at once). Stateless apart from the settings.
 */
final class Readiness {
    private final long debounceNs;
    final long maxDelayNs;
    final int batchMax;
    private final int maxInFlightPerRoot;

    Readiness(CoalesceSettings settings) {
        this.debounceNs = settings.debounce().toNanos();
        this.maxDelayNs = settings.maxDelay().toNanos();
        this.batchMax = settings.batchMaxPaths();
        this.maxInFlightPerRoot = settings.maxInFlightPerRoot();
    }

    /** When {@code e} is ready to go. */
    long due(Entry e) {
        if (e.leading) return e.firstNs;
        return Math.min(e.lastNs + debounceNs, e.firstNs + maxDelayNs);
    }

    /** The entries to issue now for this root, or null (and {@code checkAtNs} updated) when none are ready. */
    List<Entry> readyEntries(RootState ks, long now) {
        if (ks.full != null) {
            if (ks.inFlight > 0) {
                ks.checkAtNs = Long.MAX_VALUE; // finish() re-arms
                return null;
            }
            long d = due(ks.full);
            if (d > now) {
                ks.checkAtNs = d;
                return null;
            }
            return List.of(ks.full);
        }
        if (ks.quiet()) {
            ks.checkAtNs = ks.expireIssued(now, maxDelayNs); // look again to forget the root once it is idle
            return null;
        }
        if (ks.busyFull || ks.pending.isEmpty() || ks.inFlight >= maxInFlightPerRoot) {
            ks.checkAtNs = Long.MAX_VALUE; // finish() re-arms
            return null;
        }
        List<Entry> ready = new ArrayList<>();
        List<Entry> issuable = new ArrayList<>();
        long earliest = Long.MAX_VALUE;
        for (Entry e : ks.pending.values()) {
            if (ks.blocked(e.path, e.tree)) continue;
            if (issuable.size() < batchMax) issuable.add(e);
            long d = due(e);
            if (d <= now) {
                ready.add(e);
                if (ready.size() == batchMax) break;
            } else {
                earliest = Math.min(earliest, d);
            }
        }
        if (ready.isEmpty()) {
            if (issuable.size() >= batchMax) return issuable; // size cap reached: flush a full batch now
            ks.checkAtNs = earliest;
            return null;
        }
        return ready;
    }
}
