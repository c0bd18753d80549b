package io.rtbackup.worker.offsets;

/** One consumed event: its partition of the events topic and its offset there. */
public record EventRef(int partition, long offset) implements Comparable<EventRef> {
    @Override
    public int compareTo(EventRef o) {
        int c = Integer.compare(partition, o.partition);
        return c != 0 ? c : Long.compare(offset, o.offset);
    }
}
