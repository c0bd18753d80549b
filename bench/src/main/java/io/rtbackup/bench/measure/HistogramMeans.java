package io.rtbackup.bench.measure;

import io.rtbackup.bench.contender.Running;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Where rtbackup's latency goes, from its own histograms: the mean of each over a window (delta of _sum over
 * delta of _count). Empty for tools without metrics.
 */
public final class HistogramMeans {
    private final Running running;
    private final Map<String, double[]> start = new LinkedHashMap<>();

    public HistogramMeans(Running running, String... histograms) {
        this.running = running;
        for (String h : histograms) {
            start.put(h, read(h));
        }
    }

    private double[] read(String h) {
        OptionalDouble sum = running.metric(h + "_sum");
        OptionalDouble count = running.metric(h + "_count");
        return sum.isPresent() && count.isPresent() ? new double[] {sum.getAsDouble(), count.getAsDouble()} : null;
    }

    /** Mean in milliseconds since construction, or NaN. */
    public double meanMs(String h) {
        double[] a = start.get(h);
        double[] b = read(h);
        if (a == null || b == null || b[1] - a[1] <= 0) {
            return Double.NaN;
        }
        return 1000 * (b[0] - a[0]) / (b[1] - a[1]);
    }

    /** Observations since construction, or NaN. */
    public double count(String h) {
        double[] a = start.get(h);
        double[] b = read(h);
        return a == null || b == null ? Double.NaN : b[1] - a[1];
    }
}
