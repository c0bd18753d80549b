package io.rtbackup.worker.stuck;

import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.route.RootKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's stuck paths: source paths whose host reported them unreadable (permissions, an I/O error)
 * while the rest of their command arrived. Each is tried again every stuck interval ({@link #due}) for as long as
 * it stays stuck; it leaves when a sync that listed it (or a directory above it, or the whole root) succeeds without
 * reporting it stuck again, which also covers a path that is gone by then (the agent deletes it on the replica and
 * answers OK).
 *
 * <p>A stuck path is never committed away: it holds the events of the batch entry it was found in (the listed path
 * it lies at or under; all of the batch's for a full sync), and an event held by any stuck path is not done, so the
 * partition's committed offset stays at or below it. After a worker restart (or a rebalance) those events are read
 * again and the path is found stuck again. That is the whole of its durability: no topic of its own, at the price
 * of the partition's committed offset (and the lag measured from it) standing still while the path is stuck, and of
 * a full-root sync if it stays stuck past the events topic's retention. Held events are counted, since several
 * stuck paths may hold the same ones; one is released (given to {@code released}) when the last holder goes.
 *
 * <p>Single-threaded (the pipeline thread); time comes from the injected clocks.
 */
public final class StuckPaths {
    private static final Logger log = LoggerFactory.getLogger(StuckPaths.class);

    /** A stuck path as the status and the metrics show it. */
    public record View(String host, String root, PathKey path, String reason, long sinceMs, int attempts) {
    }

    /** A path whose retry is due: offer it to the coalescer. */
    public record Due(RootKey key, PathKey path) {
    }

    private static final class Stuck {
        String reason;
        final long sinceMs;
        int attempts;
        long dueNs;
        final Set<EventRef> refs = new HashSet<>();

        Stuck(long sinceMs) {
            this.sinceMs = sinceMs;
        }
    }

    private final String destination;
    private final long intervalNs;
    private final LongSupplier nanos;
    private final LongSupplier clockMs;
    private final Consumer<EventRef> released;
    private final Map<RootKey, Map<PathKey, Stuck>> byRoot = new LinkedHashMap<>();
    private final Map<EventRef, Integer> holders = new HashMap<>();

    /**
     * @param interval  the pace of retries ({@code retry.stuck-interval-ms})
     * @param clockMs   wall clock, for the "since" the status shows
     * @param released  told about each event no stuck path holds any more (the pipeline marks it done)
     */
    public StuckPaths(String destination, Duration interval, LongSupplier nanoClock, LongSupplier clockMs,
                      Consumer<EventRef> released) {
        this.destination = destination;
        this.intervalNs = interval.toNanos();
        this.nanos = nanoClock;
        this.clockMs = clockMs;
        this.released = released;
    }

    /**
     * A result of (host, root) {@code key} reported {@code paths} stuck, with the agent's reasons; {@code held}
     * gives the events each one holds from now on (added to what it held already).
     */
    public void stuck(RootKey key, Map<PathKey, String> paths, Function<PathKey, Collection<EventRef>> held) {
        Map<PathKey, Stuck> root = byRoot.computeIfAbsent(key, k -> new LinkedHashMap<>());
        long now = nanos.getAsLong();
        for (Map.Entry<PathKey, String> e : paths.entrySet()) {
            Stuck s = root.get(e.getKey());
            if (s == null) {
                s = new Stuck(clockMs.getAsLong());
                root.put(e.getKey(), s);
                log.warn("destination {}: {}:{} path '{}' is stuck (unreadable on the source: {}); it stays "
                    + "uncommitted and is tried again every {} s", destination, key.host(), key.root(),
                    e.getKey().show(), e.getValue(), intervalNs / 1_000_000_000L);
            }
            s.reason = e.getValue();
            s.attempts++;
            s.dueNs = now + intervalNs;
            for (EventRef r : held.apply(e.getKey())) {
                if (s.refs.add(r)) holders.merge(r, 1, Integer::sum);
            }
        }
    }

    /**
     * A sync of (host, root) {@code key} that listed {@code synced} (null: the whole root) succeeded; every stuck
     * path at or under a listed one, other than those at or under {@code stillStuck}, arrived (or is gone) and
     * leaves.
     */
    public void resolved(RootKey key, Collection<PathKey> synced, Set<PathKey> stillStuck) {
        Map<PathKey, Stuck> root = byRoot.get(key);
        if (root == null) return;
        Set<PathKey> listed = synced == null ? null : new HashSet<>(synced);
        for (Iterator<Map.Entry<PathKey, Stuck>> it = root.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<PathKey, Stuck> e = it.next();
            PathKey p = e.getKey();
            // Under a path that is still stuck, it did not arrive either (the agent left the whole of it out).
            if (atOrUnder(p, stillStuck) || (listed != null && !atOrUnder(p, listed))) continue;
            it.remove();
            log.info("destination {}: {}:{} path '{}' is no longer stuck (stuck since {} ms ago, {} attempt(s))",
                destination, key.host(), key.root(), p.show(), clockMs.getAsLong() - e.getValue().sinceMs,
                e.getValue().attempts);
            release(e.getValue().refs);
        }
        if (root.isEmpty()) byRoot.remove(key);
    }

    /** Whether some stuck path holds this event (it is not done). */
    public boolean holds(EventRef ref) {
        return holders.containsKey(ref);
    }

    /** The stuck paths whose retry is due now; each is due again one interval later. */
    public List<Due> due() {
        if (byRoot.isEmpty()) return List.of();
        long now = nanos.getAsLong();
        List<Due> out = new ArrayList<>();
        byRoot.forEach((key, root) -> root.forEach((path, s) -> {
            if (s.dueNs <= now) {
                s.dueNs = now + intervalNs;
                out.add(new Due(key, path));
            }
        }));
        return out;
    }

    /** When the earliest retry is due; {@code Long.MAX_VALUE} when nothing is stuck. */
    public long nextDueNs() {
        long min = Long.MAX_VALUE;
        for (Map<PathKey, Stuck> root : byRoot.values()) for (Stuck s : root.values()) min = Math.min(min, s.dueNs);
        return min;
    }

    /**
     * Partitions left this consumer: their events are forgotten (the new owner reads them again, and finds the
     * paths stuck itself); a stuck path left without events leaves too.
     */
    public void dropPartitions(IntPredicate revoked) {
        holders.keySet().removeIf(r -> revoked.test(r.partition()));
        for (Iterator<Map<PathKey, Stuck>> rit = byRoot.values().iterator(); rit.hasNext(); ) {
            Map<PathKey, Stuck> root = rit.next();
            root.values().removeIf(s -> {
                boolean had = !s.refs.isEmpty();
                s.refs.removeIf(r -> revoked.test(r.partition()));
                return had && s.refs.isEmpty();
            });
            if (root.isEmpty()) rit.remove();
        }
    }

    /** Every stuck path, by host, root and path. */
    public List<View> snapshot() {
        List<View> out = new ArrayList<>();
        byRoot.forEach((key, root) -> root.forEach((path, s) ->
            out.add(new View(key.host(), key.root(), path, s.reason, s.sinceMs, s.attempts))));
        return out;
    }

    /** How many paths are stuck per (host, root). */
    public Map<RootKey, Integer> counts() {
        Map<RootKey, Integer> out = new TreeMap<>((a, b) -> a.host().equals(b.host())
            ? a.root().compareTo(b.root()) : a.host().compareTo(b.host()));
        byRoot.forEach((key, root) -> out.put(key, root.size()));
        return out;
    }

    public boolean isEmpty() {
        return byRoot.isEmpty();
    }

    private void release(Set<EventRef> refs) {
        for (EventRef r : refs) {
            Integer n = holders.get(r);
            if (n == null) continue;
            if (n > 1) {
                holders.put(r, n - 1);
            } else {
                holders.remove(r);
                released.accept(r);
            }
        }
    }

    private static boolean atOrUnder(PathKey p, Set<PathKey> listed) {
        if (listed.contains(p)) return true;
        for (PathKey a : p.ancestors()) if (listed.contains(a)) return true;
        return false;
    }
}
