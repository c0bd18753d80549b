package io.rtbackup.worker.coalesce;

import io.rtbackup.schema.CapturePosition;
import io.rtbackup.worker.config.CoalesceSettings;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.route.RootKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

/**
 * Per-path coalescing for one destination, batched per (host, root). Plain single-threaded state driven by an
 * injected monotonic clock, so it is tested without Kafka or sleeps. What it knows of each root is a
 * {@link RootState}; when a change is due and what goes out together is {@link Readiness}'s rule; this class takes
 * changes in, hands batches out and settles them.
 *
 * <p>Rules:
 * <ul>
 *   <li>Leading edge: a change to an idle path (not issued within the max delay) is ready at once, or as soon as
 *       a conflicting command in flight (its directory, say) finishes. A path issued less than the max delay ago is busy being written: its
 *       next change waits for quiet or the max delay like any other, so a file under constant writes is synced
 *       about once per max delay, not once per command cycle.</li>
 *   <li>At most {@code maxInFlightPerRoot} commands per (host, root) run at once; while that many run, ready
 *       paths wait and go out together, in one batch, when one finishes.</li>
 *   <li>Otherwise a pending path is ready when it has been quiet for the debounce, or has waited the max delay
 *       since its first pending change (constant writes), whichever comes first; a (host, root) with at least
 *       {@code batchMaxPaths} issuable paths flushes a full batch at once.</li>
 *   <li>Later changes absorb earlier ones (one entry per path, carrying every covered event).</li>
 *   <li>A path in flight is not issued again until its command finishes; its newer change waits. Paths the agent
 *       may walk recursively (directories, subtree rescans) also block their descendants and vice versa, so two
 *       rsyncs never race on one file (a slower, older rsync could otherwise land stale content last).</li>
 *   <li>A subtree rescan absorbs pending paths under it; a root rescan or overflow absorbs every pending path of
 *       the root and becomes a full-root sync, which waits for the root's in-flight commands and blocks the root
 *       while it runs.</li>
 * </ul>
 */
public final class Coalescer {
    private final Readiness readiness;
    private final LongSupplier clock;
    private final LinkedHashMap<RootKey, RootState> keys = new LinkedHashMap<>();
    private final Map<Long, Batch> inFlight = new HashMap<>();
    private long nextId = 1;
    private int pending;

    /** @param nanoClock monotonic nanoseconds, e.g. {@code System::nanoTime} */
    public Coalescer(CoalesceSettings settings, LongSupplier nanoClock) {
        this.readiness = new Readiness(settings);
        this.clock = nanoClock;
    }

    /**
     * A change to one path (file, directory, symlink...). {@code directory} marks it as possibly recursive. A change
     * to the root directory itself (its mode, say) can only be replicated by a run over the root, so it is one.
     */
    public void offerPath(RootKey key, PathKey path, boolean directory, EventRef ref, long eventTimeNs) {
        offerPath(key, path, directory, ref, eventTimeNs, CapturePosition.UNKNOWN);
    }

    /** As {@link #offerPath(RootKey, PathKey, boolean, EventRef, long)}, with the event's capture position. */
    public void offerPath(RootKey key, PathKey path, boolean directory, EventRef ref, long eventTimeNs,
                          CapturePosition position) {
        if (path.isRoot()) {
            offerFullSync(key, ref, eventTimeNs, position);
            return;
        }
        long now = clock.getAsLong();
        RootState ks = state(key);
        if (joinPendingFullSync(ks, ref, eventTimeNs, now, position)) return;
        Entry cover = ks.pendingRescanCovering(path);
        if (cover == null) {
            cover = ks.pending.get(path);
            if (cover == null) cover = newEntry(ks, path, directory, now);
            cover.tree |= directory;
        }
        cover.add(ref, eventTimeNs, now, position);
        touch(ks, cover);
    }

    /** A pending full sync of the root covers any change under it: the event joins it. */
    private boolean joinPendingFullSync(RootState ks, EventRef ref, long eventTimeNs, long now,
                                        CapturePosition position) {
        if (ks.full == null) return false;
        ks.full.add(ref, eventTimeNs, now, position);
        touch(ks, ks.full);
        return true;
    }

    /**
     * A stuck path's slow retry (see {@code StuckPaths}): a pending change of {@code path} without events of its
     * own (the events it stands for stay held elsewhere until it arrives), possibly recursive. A pending full sync
     * or subtree rescan that covers it already stands for it.
     */
    public void offerRetry(RootKey key, PathKey path) {
        long now = clock.getAsLong();
        RootState ks = state(key);
        if (ks.full != null) {
            touch(ks, ks.full);
            return;
        }
        Entry e = ks.pendingRescanCovering(path);
        if (e == null) {
            e = ks.pending.get(path);
            if (e == null) e = newEntry(ks, path, true, now);
            e.tree = true;
        }
        e.lastNs = Math.max(e.lastNs, now);
        touch(ks, e);
    }

    /** A rescan of a subtree: the path and everything below it may have changed. The root means a full sync. */
    public void offerSubtree(RootKey key, PathKey path, EventRef ref, long eventTimeNs) {
        offerSubtree(key, path, ref, eventTimeNs, CapturePosition.UNKNOWN);
    }

    public void offerSubtree(RootKey key, PathKey path, EventRef ref, long eventTimeNs, CapturePosition position) {
        if (path.isRoot()) {
            offerFullSync(key, ref, eventTimeNs, position);
            return;
        }
        long now = clock.getAsLong();
        RootState ks = state(key);
        if (joinPendingFullSync(ks, ref, eventTimeNs, now, position)) return;
        Entry e = ks.pendingRescanCovering(path);
        if (e == null) {
            e = ks.pending.get(path);
            if (e == null) e = newEntry(ks, path, true, now);
            e.tree = true;
            if (!e.rescan) {
                e.rescan = true;
                ks.pendingRescans++;
            }
            for (Iterator<Entry> it = ks.pending.values().iterator(); it.hasNext(); ) {
                Entry x = it.next();
                if (x != e && x.path.isStrictlyUnder(path)) {
                    e.absorb(x);
                    if (x.rescan) ks.pendingRescans--;
                    it.remove();
                    pending--;
                }
            }
        }
        e.add(ref, eventTimeNs, now, position);
        touch(ks, e);
    }

    /** The whole root must be synced (root rescan, overflow, offset reset): absorbs every pending path of it. */
    public void offerFullSync(RootKey key, EventRef ref, long eventTimeNs) {
        offerFullSync(key, ref, eventTimeNs, CapturePosition.UNKNOWN);
    }

    public void offerFullSync(RootKey key, EventRef ref, long eventTimeNs, CapturePosition position) {
        long now = clock.getAsLong();
        RootState ks = state(key);
        if (ks.full == null) {
            Entry f = new Entry(PathKey.ROOT, now);
            f.tree = true;
            f.leading = ks.inFlight == 0;
            for (Entry x : ks.pending.values()) f.absorb(x);
            pending -= ks.pending.size();
            ks.pending.clear();
            ks.pendingRescans = 0;
            ks.full = f;
            pending++;
        }
        ks.full.add(ref, eventTimeNs, now, position);
        touch(ks, ks.full);
    }

    /**
     * The next batch that is ready now, if {@code admit} grants a permit for it (it is asked only when a batch is
     * ready; when it says no, nothing changes). The batch is then in flight until {@link #finish}.
     */
    public Optional<Batch> next(BooleanSupplier admit) {
        long now = clock.getAsLong();
        List<RootKey> idle = new ArrayList<>();
        try {
            for (RootState ks : keys.values()) {
                if (ks.checkAtNs > now) continue;
                if (ks.quiet()) ks.expireIssued(now, readiness.maxDelayNs);
                if (ks.idle()) {
                    idle.add(ks.key);
                    continue;
                }
                List<Entry> ready = readiness.readyEntries(ks, now);
                if (ready == null) continue;
                if (!admit.getAsBoolean()) return Optional.empty();
                Batch b = issue(ks, ready, now);
                // Round-robin between roots: the one just served goes to the back.
                keys.remove(ks.key);
                keys.put(ks.key, ks);
                return Optional.of(b);
            }
            return Optional.empty();
        } finally {
            for (RootKey k : idle) keys.remove(k);
        }
    }

    /**
     * After a successful sync at {@code synced} (the agent's capture position when rsync started): pending changes
     * of the synced paths (all of the root's, for a full sync) whose events all lie at or before it
     * ({@link CapturePosition#covers}) are already in the replica. They are dropped, and their events returned so
     * the caller can count them as done. Replication is state-based, so this only saves the second rsync a backlog
     * would otherwise cause.
     *
     * @param paths the paths the sync listed, or null for a full sync
     */
    public List<EventRef> dropCovered(RootKey key, Collection<PathKey> paths, CapturePosition synced) {
        RootState ks = keys.get(key);
        if (ks == null || !synced.known()) return List.of();
        List<EventRef> done = new ArrayList<>();
        if (paths == null) {
            if (ks.full != null && synced.covers(ks.full.newest)) {
                done.addAll(ks.full.refs);
                ks.full = null;
                pending--;
            }
            for (Iterator<Entry> it = ks.pending.values().iterator(); it.hasNext(); ) {
                Entry x = it.next();
                if (synced.covers(x.newest)) {
                    done.addAll(x.refs);
                    if (x.rescan) ks.pendingRescans--;
                    it.remove();
                    pending--;
                }
            }
        } else {
            // The agent syncs listed directories recursively: a pending change at or below a synced path is covered.
            Set<PathKey> listed = new HashSet<>(paths);
            for (Iterator<Entry> it = ks.pending.values().iterator(); it.hasNext(); ) {
                Entry x = it.next();
                if (!synced.covers(x.newest) || !isAtOrUnder(x.path, listed)) continue;
                done.addAll(x.refs);
                if (x.rescan) ks.pendingRescans--;
                it.remove();
                pending--;
            }
        }
        if (ks.idle()) keys.remove(ks.key);
        return done;
    }

    private static boolean isAtOrUnder(PathKey path, Set<PathKey> synced) {
        if (synced.contains(path)) return true;
        for (PathKey a : path.ancestors()) if (synced.contains(a)) return true;
        return false;
    }

    /** The batch's command finished (done, rejected or given up): its paths may be issued again. */
    public Batch finish(long batchId) {
        Batch b = inFlight.remove(batchId);
        if (b == null) return null;
        RootState ks = keys.get(b.key());
        if (b.fullSync()) {
            ks.busyFull = false;
        } else {
            for (PathKey p : b.paths()) {
                ks.busy.remove(p);
                ks.busyTrees.remove(p);
            }
        }
        ks.inFlight--;
        ks.checkAtNs = Long.MIN_VALUE;
        if (ks.idle()) keys.remove(ks.key);
        return b;
    }

    /**
     * Before a retry of an in-flight batch: its paths' newer pending changes ride along (the retried rsync reads
     * the current state anyway), so they do not need a command of their own. A full sync absorbs every pending
     * change of its root.
     */
    public Batch absorbPendingInto(long batchId) {
        Batch b = inFlight.get(batchId);
        if (b == null) throw new IllegalArgumentException("batch " + batchId + " is not in flight");
        RootState ks = keys.get(b.key());
        if (b.fullSync()) {
            for (Entry x : ks.pending.values()) b.absorb(x);
            pending -= ks.pending.size();
            ks.pending.clear();
            ks.pendingRescans = 0;
            if (ks.full != null) {
                b.absorb(ks.full);
                ks.full = null;
                pending--;
            }
        } else {
            for (PathKey p : b.paths()) {
                Entry x = ks.pending.remove(p);
                if (x == null) continue;
                pending--;
                if (x.rescan) ks.pendingRescans--;
                if (b.absorb(x)) ks.busyTrees.add(p);
            }
        }
        return b;
    }

    /**
     * Before the probe of a returning destination (the retry the half-open breaker lets through): besides its own
     * paths' newer changes ({@link #absorbPendingInto}), every other pending path of its root that may go now (no
     * conflict with another command in flight) rides along, up to the batch size cap. The backlog waited behind
     * this batch anyway (one command per root); if the destination is back, the probe brings the replica up to
     * date at once instead of a command later; if not, its rsync fails at connecting all the same.
     */
    public Batch widen(long batchId) {
        Batch b = absorbPendingInto(batchId);
        if (b.fullSync()) return b;
        RootState ks = keys.get(b.key());
        if (ks.full != null) return b; // a pending full sync waits for this batch and then covers everything
        long now = clock.getAsLong();
        List<Entry> taken = new ArrayList<>();
        for (Entry e : ks.pending.values()) {
            if (b.pathCount() + taken.size() >= readiness.batchMax) break;
            if (!ks.blocked(e.path, e.tree)) taken.add(e);
        }
        for (Entry e : taken) {
            b.absorb(e);
            take(ks, e, now);
        }
        pending -= taken.size();
        return b;
    }

    /**
     * Partitions were revoked: forget their events. Pending paths left without events are dropped (the partition's
     * new owner replays them); in-flight batches keep running but no longer cover them.
     */
    public void dropPartitions(IntPredicate revoked) {
        for (Iterator<RootState> kit = keys.values().iterator(); kit.hasNext(); ) {
            RootState ks = kit.next();
            for (Iterator<Entry> it = ks.pending.values().iterator(); it.hasNext(); ) {
                Entry e = it.next();
                e.refs.removeIf(r -> revoked.test(r.partition()));
                if (e.refs.isEmpty()) {
                    if (e.rescan) ks.pendingRescans--;
                    it.remove();
                    pending--;
                }
            }
            if (ks.full != null) {
                ks.full.refs.removeIf(r -> revoked.test(r.partition()));
                if (ks.full.refs.isEmpty()) {
                    ks.full = null;
                    pending--;
                }
            }
            ks.checkAtNs = Long.MIN_VALUE;
            if (ks.idle()) kit.remove();
        }
        for (Batch b : inFlight.values()) b.dropRefs(revoked);
    }

    /** Pending (not yet issued) paths, counting a pending full-root sync as one. */
    public int pendingCount() {
        return pending;
    }

    public int inFlightCount() {
        return inFlight.size();
    }

    /** Earliest clock value at which {@link #next} may find something; {@code Long.MAX_VALUE} when nothing waits. */
    public long nextCheckNanos() {
        long min = Long.MAX_VALUE;
        for (RootState ks : keys.values()) min = Math.min(min, ks.checkAtNs);
        return min;
    }

    /** A pending entry goes into a batch being issued: its path is in flight from now on. */
    private static void take(RootState ks, Entry e, long now) {
        ks.pending.remove(e.path);
        if (e.rescan) ks.pendingRescans--;
        ks.busy.add(e.path);
        if (e.tree) ks.busyTrees.add(e.path);
        ks.recentlyIssued.remove(e.path);
        ks.recentlyIssued.put(e.path, now);
    }

    private RootState state(RootKey key) {
        return keys.computeIfAbsent(key, RootState::new);
    }

    private Entry newEntry(RootState ks, PathKey path, boolean tree, long now) {
        Entry e = new Entry(path, now);
        e.tree = tree;
        ks.expireIssued(now, readiness.maxDelayNs);
        // Not issued within the max delay: not being written, so no reason to wait for quiet. A conflict in flight
        // (its directory, say) only holds it until that command finishes; it then goes with the next batch.
        e.leading = !ks.recentlyIssued.containsKey(path);
        ks.pending.put(path, e);
        pending++;
        return e;
    }

    private void touch(RootState ks, Entry e) {
        ks.checkAtNs = Math.min(ks.checkAtNs, readiness.due(e));
    }

    private Batch issue(RootState ks, List<Entry> entries, long now) {
        boolean full = entries.size() == 1 && entries.get(0) == ks.full;
        Batch b = new Batch(nextId++, ks.key, full);
        for (Entry e : entries) b.absorb(e);
        if (full) {
            ks.full = null;
            ks.busyFull = true;
            pending--;
        } else {
            for (Entry e : entries) take(ks, e, now);
            pending -= entries.size();
        }
        ks.inFlight++;
        // More may be ready; the next scan settles the exact time.
        ks.checkAtNs = Long.MIN_VALUE;
        inFlight.put(b.id(), b);
        return b;
    }
}
