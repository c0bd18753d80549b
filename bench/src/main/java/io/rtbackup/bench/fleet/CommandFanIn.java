package io.rtbackup.bench.fleet;

import io.rtbackup.topics.CommandPartitions;
import java.util.HashMap;
import java.util.Map;

/**
 * What an agent's command consumer reads versus what is addressed to it. An agent reads the whole partition its
 * host maps to ({@link CommandPartitions#of}) and skips other hosts' records there, so per host:
 * read = the records of its partition, addressed = the records keyed by it. Counted from every command record the
 * simulated fleet consumed; {@link #readPerAddressed} also works the same stream out for another partition count
 * (what the agents would have read had the topic had that many partitions). Thread-confined to the consumer thread
 * while recording; read after the run.
 */
final class CommandFanIn {
    private final Map<String, long[]> byHost = new HashMap<>(); // records, bytes
    private long[] partitionRecords = new long[0];
    private long misplaced;

    void partitions(int count) {
        partitionRecords = new long[count];
    }

    int partitionCount() {
        return partitionRecords.length;
    }

    synchronized void record(int partition, String host, int bytes) {
        partitionRecords[partition]++;
        long[] h = byHost.computeIfAbsent(host, k -> new long[2]);
        h[0]++;
        h[1] += bytes;
        if (CommandPartitions.of(host, partitionRecords.length) != partition) misplaced++;
    }

    /** Command records that were not in the partition their host's agent reads (must be 0). */
    synchronized long misplaced() {
        return misplaced;
    }

    synchronized long total() {
        long t = 0;
        for (long r : partitionRecords) t += r;
        return t;
    }

    /** Read cost over the hosts that got commands, had the topic {@code partitions} partitions. */
    record Ratio(int partitions, double meanAddressed, double meanRead, double meanRatio, double maxRead) {
    }

    synchronized Ratio readPerAddressed(int partitions) {
        long[] perPartition = new long[partitions];
        for (Map.Entry<String, long[]> e : byHost.entrySet()) {
            perPartition[CommandPartitions.of(e.getKey(), partitions)] += e.getValue()[0];
        }
        double addressed = 0;
        double read = 0;
        double ratio = 0;
        double maxRead = 0;
        for (Map.Entry<String, long[]> e : byHost.entrySet()) {
            long own = e.getValue()[0];
            long r = perPartition[CommandPartitions.of(e.getKey(), partitions)];
            addressed += own;
            read += r;
            ratio += (double) r / own;
            maxRead = Math.max(maxRead, r);
        }
        int n = Math.max(1, byHost.size());
        return new Ratio(partitions, addressed / n, read / n, ratio / n, maxRead);
    }

    synchronized int hostsWithCommands() {
        return byHost.size();
    }

    /** Mean size of a command record (key + value), bytes. */
    synchronized double meanRecordBytes() {
        long records = 0;
        long bytes = 0;
        for (long[] h : byHost.values()) {
            records += h[0];
            bytes += h[1];
        }
        return records == 0 ? 0 : (double) bytes / records;
    }
}
