package io.rtbackup.bench.fleet;

import io.rtbackup.topics.ResultPartitions;
import java.util.HashMap;
import java.util.Map;

/**
 * What a worker's results listener reads versus what is addressed to it. Before, a worker read every partition of
 * the results topic (read = every result of the fleet); now it reads the partition its id maps to
 * ({@link ResultPartitions#of}; read = the results of the workers sharing it). Counted from every result record the
 * simulated fleet published (its partition and {@code replyTo}); {@link #workedOut} does the same arithmetic for a
 * number of workers the simulator does not run, each with an equal share of the results. Thread-safe.
 */
final class ResultFanIn {
    private final Map<String, Long> byWorker = new HashMap<>();
    private final Map<Integer, Long> byPartition = new HashMap<>();
    private int partitions = 1;
    private long total;
    private long misplaced;

    synchronized void partitions(int count) {
        partitions = count;
    }

    synchronized void record(int partition, String worker) {
        byWorker.merge(worker, 1L, Long::sum);
        byPartition.merge(partition, 1L, Long::sum);
        total++;
        if (ResultPartitions.of(worker, partitions) != partition) misplaced++;
    }

    /** Result records not in the partition their worker reads (must be 0). */
    synchronized long misplaced() {
        return misplaced;
    }

    /**
     * Mean over the workers of records read per record addressed to it.
     *
     * @param workers    workers that got results
     * @param partitions the results topic's partitions
     * @param everyPartition read per addressed when a worker reads every partition (before)
     * @param ownPartition   read per addressed when it reads its own partition (now)
     */
    record Ratio(String how, int workers, int partitions, double everyPartition, double ownPartition) {
    }

    /** Measured from the records of the run. */
    synchronized Ratio measured() {
        double before = 0;
        double after = 0;
        for (Map.Entry<String, Long> w : byWorker.entrySet()) {
            before += (double) total / w.getValue();
            after += (double) byPartition.getOrDefault(ResultPartitions.of(w.getKey(), partitions), 0L) / w.getValue();
        }
        int n = Math.max(1, byWorker.size());
        return new Ratio("measured", byWorker.size(), partitions, before / n, after / n);
    }

    /** {@code workers} workers named worker-1.. with equal shares, on a topic of {@code partitions}. */
    static Ratio workedOut(int workers, int partitions) {
        Map<Integer, Integer> perPartition = new HashMap<>();
        for (int i = 1; i <= workers; i++) perPartition.merge(ResultPartitions.of("worker-" + i, partitions), 1, Integer::sum);
        double after = 0;
        for (int i = 1; i <= workers; i++) after += perPartition.get(ResultPartitions.of("worker-" + i, partitions));
        return new Ratio("worked out", workers, partitions, workers, after / workers);
    }
}
