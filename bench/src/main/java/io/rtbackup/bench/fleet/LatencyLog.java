package io.rtbackup.bench.fleet;

import java.util.Arrays;

/** Millisecond samples from many threads; percentiles of what was added since the last {@link #take}. */
final class LatencyLog {
    private long[] samples = new long[1024];
    private int n;

    synchronized void add(long ms) {
        if (n == samples.length) samples = Arrays.copyOf(samples, n * 2);
        samples[n++] = ms;
    }

    /** The samples since the last call, sorted; clears them. */
    synchronized long[] take() {
        long[] out = Arrays.copyOf(samples, n);
        n = 0;
        Arrays.sort(out);
        return out;
    }

    /** The {@code q} quantile (0..1) of sorted samples, or -1 when there are none. */
    static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) return -1;
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
