package io.rtbackup.agent.moves;

import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.schema.FileOp;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Renames this agent captured lately, by new name: where a moved file or directory came from. rsync cannot move
 * anything on a destination, so a path renamed into another directory would travel in full; knowing its old
 * name lets the executor offer the replica's old copy as the delta basis. Only a hint: a wrong or stale entry
 * costs bytes on the wire, never correctness (rsync checks every block it reuses).
 *
 * <p>Bounded (oldest entries go first) and aged out, so a burst of renames cannot grow the agent's heap.
 */
public final class RecentMoves {
    private record Key(String rootId, ByteBuffer to) {
    }

    /** {@code from}: the old root-relative name of the key's path. */
    private record Entry(byte[] from, long atNs) {
    }

    private final int capacity;
    private final long maxAgeNs;
    private final LongSupplier nanoClock;
    private final LinkedHashMap<Key, Entry> moves = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
            return size() > capacity;
        }
    };

    public RecentMoves(int capacity, long maxAgeNs, LongSupplier nanoClock) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1");
        this.capacity = capacity;
        this.maxAgeNs = maxAgeNs;
        this.nanoClock = nanoClock;
    }

    /** 10,000 renames, kept for 15 minutes (longer than a command waits behind a slow destination's backlog). */
    public static RecentMoves standard() {
        return new RecentMoves(10_000, 15L * 60 * 1_000_000_000L, System::nanoTime);
    }

    /** Notes a captured rename (the MOVE_TO half carries the old name); other events are ignored. Never blocks long. */
    public void observe(CapturedEvent e) {
        if (e.op() != FileOp.MOVE_TO || e.otherPath() == null || e.path().length == 0 || e.otherPath().length == 0) {
            return;
        }
        Key k = new Key(e.rootId(), ByteBuffer.wrap(e.path().clone()));
        synchronized (moves) {
            moves.remove(k); // re-inserted at the young end
            moves.put(k, new Entry(e.otherPath().clone(), nanoClock.getAsLong()));
        }
    }

    /** Where {@code path} of {@code rootId} was renamed from, if that was captured lately. */
    public Optional<byte[]> from(String rootId, byte[] path) {
        long now = nanoClock.getAsLong();
        synchronized (moves) {
            // insertion order is age order (observe re-inserts): expire from the old end only
            for (var it = moves.values().iterator(); it.hasNext() && now - it.next().atNs() > maxAgeNs; ) it.remove();
            Entry x = moves.get(new Key(rootId, ByteBuffer.wrap(path)));
            return x == null ? Optional.empty() : Optional.of(x.from().clone());
        }
    }
}
