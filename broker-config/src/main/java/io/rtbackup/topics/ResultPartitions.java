package io.rtbackup.topics;

/**
 * The one rule of where a command's result travels, and how many partitions the results topic needs for the
 * workers that read it.
 *
 * <p>An agent answers a {@code SyncCommand} with a {@code SyncResult} keyed by the command's {@code replyTo}, the id of
 * the worker that issued it, so Kafka's default partitioner puts it in {@link #of}{@code (replyTo, partitions)};
 * every agent since the first has done so. A worker therefore reads only {@link #of}{@code (its id, partitions)} and
 * the results of the workers that share that partition, instead of every result of the fleet: its read cost follows
 * its own commands, not the fleet or the number of workers.
 *
 * <p>{@link #forWorkers} sizes the topic so that a partition serves at most {@value #WORKERS_PER_PARTITION} worker on
 * average, doubling from the catalog's {@code results.partitions}: a worker then reads its own results and, on
 * average, less than one other worker's. The count only doubles, so (as with {@link CommandPartitions}) a worker
 * whose id moves lands on a partition that is new; it keeps reading its old one until every agent has noticed the
 * new count (see the worker's {@code OwnResultPartitions}).
 *
 * <p>A result that is written where its worker does not read (an agent that has not noticed growth yet and wrote
 * after the worker stopped reading the old partition) is never lost work: the command gets no result, times out
 * after {@code result.timeout-ms} and is sent again; its events stay uncommitted meanwhile.
 */
public final class ResultPartitions {
    /** Upper bound of the average number of workers whose results share one partition. */
    public static final int WORKERS_PER_PARTITION = 1;

    private ResultPartitions() {}

    /**
     * The partition of the results addressed to {@code workerId} among {@code partitions}: murmur2 of the id's UTF-8
     * bytes, what Kafka's default partitioner does with the key {@code replyTo}.
     */
    public static int of(String workerId, int partitions) {
        return KeyedPartitions.of(workerId, partitions);
    }

    /**
     * How many partitions the results topic needs for {@code workers} workers: {@code floor} (the catalog's
     * {@code results.partitions}) doubled until {@code partitions * WORKERS_PER_PARTITION >= workers}.
     */
    public static int forWorkers(long workers, int floor) {
        return KeyedPartitions.doubledFor(workers, WORKERS_PER_PARTITION, floor, "workers");
    }
}
