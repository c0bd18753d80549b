package io.rtbackup.agent.transport;

import io.rtbackup.agent.event.CapturedEvent;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The event publisher's buffer: hints waiting to be sent, merged as the kernel's fs/notify merges its queue.
 *
 * <p>Merge rule: a hint identical to one still waiting here (same root id, path bytes, operation, directory flag
 * and other-path bytes; source, capture time and inode are not compared) is folded into the waiting one instead of
 * queued again. Replication is state-based: rsync copies a path's state when it runs, which is after the waiting
 * hint is sent, and the publisher numbers a hint ({@code seq}) when it sends it, so the waiting hint's number is
 * taken after every change it stands for. Only exact duplicates merge, never different operations; distinct
 * hints leave in the order they came (FIFO), a merged one keeping the place of the first. A hint already taken
 * by {@link #poll} is no longer waiting: its duplicates queue anew.
 *
 * <p>The waiting entry stays as it was queued: it keeps the first capture's time, so the publish latency measured
 * from it runs from the first change it stands for (the latest would hide how long changes waited exactly when
 * the publisher is behind), and the first capture's source and inode (the inode is informational, no reader acts
 * on it).
 *
 * <p>Bounded by distinct hints: {@link #offer} refuses a new distinct hint when {@code capacity} are waiting; a
 * duplicate is always merged. Thread-safe for any number of producers and consumers. No allocation per hint:
 * the hints themselves are the keys of an open-addressing table (linear probing, deletion by backward shift), and
 * a ring keeps their order; both grow by doubling up to the bound, so an idle agent holds little.
 */
final class PendingHints {

    /** What {@link #offer} did with a hint. */
    enum Offer { QUEUED, MERGED, FULL }

    private static final int INITIAL = 64;

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    /** Waiting hints in arrival order: {@code count} of them from {@code head}, wrapping. */
    private CapturedEvent[] ring;
    private int head;
    private int count;
    /** The same hints by content; length a power of two, at least twice the ring's, so probes stay short. */
    private CapturedEvent[] table;
    private int[] tableHash;

    PendingHints(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("publish buffer capacity must be >= 1, got " + capacity);
        this.capacity = capacity;
        allocate(Math.min(capacity, INITIAL));
    }

    /** Queues {@code hint}, merges it into an identical waiting one, or refuses it when the buffer is full. */
    Offer offer(CapturedEvent hint) {
        int h = hash(hint);
        lock.lock();
        try {
            int slot = find(hint, h);
            if (table[slot] != null) return Offer.MERGED;
            if (count == capacity) return Offer.FULL;
            if (count == ring.length) {
                grow();
                slot = find(hint, h);
            }
            table[slot] = hint;
            tableHash[slot] = h;
            ring[index(count)] = hint;
            count++;
            notEmpty.signal();
            return Offer.QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest waiting hint, or null when none is waiting. */
    CapturedEvent poll() {
        lock.lock();
        try {
            return count == 0 ? null : take();
        } finally {
            lock.unlock();
        }
    }

    /** The oldest waiting hint, waiting up to {@code timeout} for one; null when none came. */
    CapturedEvent poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (count == 0) {
                if (nanos <= 0) return null;
                nanos = notEmpty.awaitNanos(nanos);
            }
            return take();
        } finally {
            lock.unlock();
        }
    }

    /** Distinct hints waiting. */
    int size() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        return size() == 0;
    }

    int capacity() {
        return capacity;
    }

    private CapturedEvent take() {
        CapturedEvent hint = ring[head];
        ring[head] = null;
        head = head + 1 == ring.length ? 0 : head + 1;
        count--;
        int mask = table.length - 1;
        int slot = hash(hint) & mask;
        while (table[slot] != hint) slot = (slot + 1) & mask;
        removeAt(slot);
        return hint;
    }

    /** The slot holding a hint identical to {@code hint}, or the empty slot where it belongs. */
    private int find(CapturedEvent hint, int h) {
        int mask = table.length - 1;
        int slot = h & mask;
        for (CapturedEvent t; (t = table[slot]) != null; slot = (slot + 1) & mask) {
            if (tableHash[slot] == h && same(t, hint)) return slot;
        }
        return slot;
    }

    /** Empties {@code slot} and moves later entries of its probe run back, so that no lookup stops short. */
    private void removeAt(int slot) {
        int mask = table.length - 1;
        int gap = slot;
        for (int j = (gap + 1) & mask; table[j] != null; j = (j + 1) & mask) {
            int home = tableHash[j] & mask;
            // the entry at j may fill the gap unless its home lies cyclically in (gap, j]
            boolean stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
            if (!stays) {
                table[gap] = table[j];
                tableHash[gap] = tableHash[j];
                gap = j;
            }
        }
        table[gap] = null;
    }

    private int index(int offset) {
        int i = head + offset;
        return i >= ring.length ? i - ring.length : i;
    }

    private void grow() {
        CapturedEvent[] old = ring;
        int oldHead = head;
        int n = count;
        allocate((int) Math.min(capacity, 2L * old.length));
        for (int k = 0; k < n; k++) {
            int i = oldHead + k;
            CapturedEvent hint = old[i >= old.length ? i - old.length : i];
            ring[k] = hint;
            int h = hash(hint);
            int slot = find(hint, h);
            table[slot] = hint;
            tableHash[slot] = h;
        }
        count = n;
    }

    private void allocate(int ringLength) {
        ring = new CapturedEvent[ringLength];
        head = 0;
        count = 0;
        int tableLength = Integer.highestOneBit(2 * ringLength - 1) << 1; // the least power of two >= 2 * ringLength
        table = new CapturedEvent[tableLength];
        tableHash = new int[tableLength];
    }

    /** Over exactly the fields {@link #same} compares, contents of the byte arrays included. */
    static int hash(CapturedEvent e) {
        int h = Objects.hashCode(e.rootId());
        h = 31 * h + Arrays.hashCode(e.path());
        h = 31 * h + (e.op() == null ? 0 : e.op().ordinal() + 1);
        h = 31 * h + (e.directory() ? 1 : 0);
        h = 31 * h + Arrays.hashCode(e.otherPath()); // null: 0, empty: 1
        h *= 0x9E3779B9; // spread: the table indexes by the low bits
        return h ^ (h >>> 16);
    }

    /** Whether {@code b} is a duplicate of {@code a}: the merge rule. */
    static boolean same(CapturedEvent a, CapturedEvent b) {
        return a.op() == b.op() && a.directory() == b.directory() && Objects.equals(a.rootId(), b.rootId())
                && Arrays.equals(a.path(), b.path()) && Arrays.equals(a.otherPath(), b.otherPath());
    }
}
