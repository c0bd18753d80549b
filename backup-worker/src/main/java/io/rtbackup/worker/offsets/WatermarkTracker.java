package io.rtbackup.worker.offsets;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * Kafka Connect–style offset watermarks: per partition, the offset that may be committed is the lowest consumed
 * offset whose event is not done yet, or the next offset after everything consumed when all are done. Committing
 * it never skips an event that is still waiting for its sync, however out of order the commands finish.
 *
 * <p>Single-threaded (the pipeline thread owns it).
 */
public final class WatermarkTracker {
    private static final class Marks {
        long next = -1;
        final TreeSet<Long> open = new TreeSet<>();
    }

    private final Map<Integer, Marks> partitions = new HashMap<>();

    /** Where consumption of a partition (re)starts; forgets earlier state. Nothing before it is outstanding. */
    public void startAt(int partition, long offset) {
        Marks m = new Marks();
        m.next = offset;
        partitions.put(partition, m);
    }

    /** An event was consumed and is not done until {@link #done} is called for it. */
    public void track(int partition, long offset) {
        Marks m = partitions.computeIfAbsent(partition, p -> new Marks());
        if (m.next >= 0 && offset < m.next) {
            // Consumption went back (a seek): what was outstanding from the earlier pass is consumed again.
            m.open.tailSet(offset, true).clear();
        }
        m.open.add(offset);
        m.next = offset + 1;
    }

    /** The event needs nothing more (synced, dead-lettered, or not routed here). Unknown offsets are ignored. */
    public void done(int partition, long offset) {
        Marks m = partitions.get(partition);
        if (m != null) m.open.remove(offset);
    }

    public void done(EventRef ref) {
        done(ref.partition(), ref.offset());
    }

    /** The offset to commit for the partition, or empty when nothing was consumed from it yet. */
    public OptionalLong committable(int partition) {
        Marks m = partitions.get(partition);
        if (m == null || m.next < 0) return OptionalLong.empty();
        return OptionalLong.of(m.open.isEmpty() ? m.next : m.open.first());
    }

    /** Committable offsets of every known partition. */
    public Map<Integer, Long> committable() {
        Map<Integer, Long> out = new HashMap<>();
        for (Integer p : partitions.keySet()) committable(p).ifPresent(o -> out.put(p, o));
        return out;
    }

    /** Consumed events not yet done, for the partition. */
    public int outstanding(int partition) {
        Marks m = partitions.get(partition);
        return m == null ? 0 : m.open.size();
    }

    /** Next offset after the last consumed one, or -1 when nothing was consumed. */
    public long consumedUpTo(int partition) {
        Marks m = partitions.get(partition);
        return m == null ? -1 : m.next;
    }

    /** The partitions left this consumer: their state is gone (a later assignment starts afresh). */
    public void forget(Collection<Integer> gone) {
        for (Integer p : gone) partitions.remove(p);
    }
}
