package io.rtbackup.bench.measure;

import java.io.InterruptedIOException;

/** Sleeping that turns interruption into an IOException, so measuring loops stay short. */
public final class Sleep {
    private Sleep() {
    }

    public static void ms(long ms) throws InterruptedIOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** Sleeps until System.nanoTime() reaches {@code deadlineNanos}. */
    public static void untilNanos(long deadlineNanos) throws InterruptedIOException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            }
        }
    }
}
