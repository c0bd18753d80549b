package io.rtbackup.topics;

/**
 * The one rule of where a host's commands travel, and how many partitions the commands topic needs for a fleet.
 *
 * <p>An agent reads exactly one partition of the commands topic, the one its host id maps to ({@link #of}), and
 * skips the records of the other hosts that share it; a worker writes each command to that same partition. What an
 * agent reads is therefore about {@code hosts / partitions} hosts' commands. With a fixed partition count that
 * grows with the fleet (at 1,000 hosts and 6 partitions every agent reads ~167 hosts' commands, at 100,000 ~16,700),
 * and so does the broker's egress (hosts times that). {@link #forFleet} sizes the topic so that a partition holds
 * at most {@value #HOSTS_PER_PARTITION} hosts on average: an agent's read cost stays bounded whatever the fleet.
 *
 * <p>The count only ever doubles, starting from the catalog's {@code commands.partitions}: with {@code murmur2(host)
 * mod P}, going from P to 2P moves only the hosts whose hash lands in the new upper half, each to a partition that is
 * new (so an agent that moves reads it from its beginning and misses nothing written there). The topic provisioner
 * grows the topic (see {@code TopicProvisioner}); agents and workers follow the partition count they see.
 */
public final class CommandPartitions {
    /** Upper bound of the average number of hosts sharing one commands partition. */
    public static final int HOSTS_PER_PARTITION = 32;

    private CommandPartitions() {}

    /**
     * The partition of a host's commands among {@code partitions}: murmur2 of the host id's UTF-8 bytes, the same
     * as Kafka's default partitioner for that key, so a producer that does not name the partition agrees.
     */
    public static int of(String hostId, int partitions) {
        return KeyedPartitions.of(hostId, partitions);
    }

    /**
     * How many partitions the commands topic needs for {@code hosts} agents: {@code floor} (the catalog's
     * {@code commands.partitions}) doubled until {@code partitions * HOSTS_PER_PARTITION >= hosts}.
     */
    public static int forFleet(long hosts, int floor) {
        return KeyedPartitions.doubledFor(hosts, HOSTS_PER_PARTITION, floor, "hosts");
    }
}
