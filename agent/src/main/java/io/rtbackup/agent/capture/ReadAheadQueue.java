package io.rtbackup.agent.capture;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw kernel event bytes between a source's reader thread, which only drains the kernel queue, and its
 * processing thread, which resolves and delivers them. The kernel queue is small (16384 events by default) and
 * overflows after a short scheduling hiccup of a reader that also does the work; this buffer adds a bounded
 * number of bytes in user space, allocated only while processing lags. When even that is full, the chunk is
 * dropped and a {@link #LOST} marker takes its place in order, so the processor clears its caches and reports an
 * overflow exactly where events went missing.
 */
public final class ReadAheadQueue {

    /** In-band marker: events were dropped here. */
    public static final byte[] LOST = new byte[0];

    private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final long maxBytes;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong droppedChunks = new AtomicLong();
    private boolean lostPending; // reader thread only

    public ReadAheadQueue(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Reader thread: hands over one chunk, or drops it (and queues {@link #LOST} once) when the budget is used. */
    public void offer(byte[] chunk) {
        if (bytes.get() + chunk.length > maxBytes) {
            droppedChunks.incrementAndGet();
            if (!lostPending) {
                lostPending = true;
                queue.add(LOST);
            }
            return;
        }
        lostPending = false;
        bytes.addAndGet(chunk.length);
        queue.add(chunk);
    }

    /** Reader thread: events were lost for another reason (a failed read); the processor reports an overflow. */
    public void markLost() {
        lostPending = true;
        queue.add(LOST);
    }

    /** Processing thread: the next chunk or {@link #LOST}, or null after {@code timeoutMs} without one. */
    public byte[] poll(long timeoutMs) throws InterruptedException {
        byte[] c = queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (c != null && c != LOST) bytes.addAndGet(-c.length);
        return c;
    }

    /** Bytes waiting. */
    public long bufferedBytes() {
        return bytes.get();
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Chunks dropped because the buffer was full. */
    public long droppedChunks() {
        return droppedChunks.get();
    }

    /**
     * Waits for a source's reader (which stops within its poll timeout) and then its processor (which first
     * delivers what the reader left in this queue), each bounded so a wedged thread cannot hang shutdown.
     */
    public static void awaitStopped(Thread reader, Thread processor) {
        try {
            reader.join(5_000);
            if (processor != null) processor.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
