package io.rtbackup.topics;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * Where a record keyed by a string travels, and how a topic whose readers each follow one key grows: the shared
 * arithmetic of {@link CommandPartitions} (keyed by host) and {@link ResultPartitions} (keyed by worker).
 *
 * <p>The partition is murmur2 of the key's UTF-8 bytes mod the count, exactly what Kafka's default partitioner does
 * with that key, so a producer that does not name the partition agrees. The count only ever doubles from a floor: going
 * from P to 2P moves only the keys whose hash lands in the new upper half, each to a partition that is new, so a
 * reader that moves reads its new partition from the beginning and misses nothing written there.
 */
final class KeyedPartitions {
    private KeyedPartitions() {}

    /** The partition of records keyed by {@code key} among {@code partitions}. */
    static int of(String key, int partitions) {
        if (partitions < 1) throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /**
     * {@code floor} doubled until {@code partitions * perPartition >= keys}: at most {@code perPartition} keys share a
     * partition on average; {@code what} names the keys in the error when no count serves.
     */
    static int doubledFor(long keys, int perPartition, int floor, String what) {
        if (floor < 1) throw new IllegalArgumentException("floor must be >= 1, got " + floor);
        long p = floor;
        while (p * perPartition < keys) p *= 2;
        if (p > Integer.MAX_VALUE) throw new IllegalArgumentException("no partition count serves " + keys + " " + what);
        return (int) p;
    }
}
