package io.rtbackup.bench.fleet;

import java.util.List;

/**
 * What one simulator run measured.
 *
 * @param commandPartitions the commands topic's partition count during the run
 * @param windows           the measured windows (one worker, then two)
 * @param join              a second worker joining under load; null when not measured
 * @param leave             that worker leaving (SIGTERM) under load; null when not measured
 * @param fanIn             an agent's command read cost: measured on the topic, and worked out for other counts
 * @param resultFanIn       a worker's result read cost: measured from this run's results, and worked out for more
 *                          workers
 * @param countedSeconds    how long the fan-in counts ran (from the agents' start to the end of the run)
 * @param misplacedCommands command records outside their host's partition (must be 0)
 * @param misplacedResults  result records outside the partition their worker reads (must be 0)
 * @param convergedMs       from the end of the load until every changed path had an OK result; -1 if it never did
 * @param unsynced          paths still without an OK result at the end
 */
public record FleetResult(FleetOptions options, int commandPartitions, List<Window> windows, Rebalance join,
                          Rebalance leave, List<CommandFanIn.Ratio> fanIn,
                          List<ResultFanIn.Ratio> resultFanIn, long misplacedResults, double countedSeconds,
                          double commandsPerSecond,
                          double meanCommandBytes, long misplacedCommands, long convergedMs, int unsynced) {

    /**
     * A measured window.
     *
     * @param cpuSeconds      CPU of the workers in the window, summed (NaN when they ran in the simulator's JVM)
     * @param processedPerSec events per second that OK results made durable (the offsets their commands cover)
     * @param committedPerSec events per second the destination's group committed (lags the above: a partition's
     *                        commit waits for its lowest unfinished event)
     * @param loadAverage     the machine's 1-minute load average at the window's end (what else competed for CPU)
     */
    public record Window(String name, int workers, double seconds, double offeredPerSec, double processedPerSec,
                         double committedPerSec, double cpuSeconds, List<Double> cpuPerWorker, long maxLag,
                         long endLag, long deliveryP50, long deliveryP99, long roundTripP50, long roundTripP99,
                         double commandsPerSec, double loadAverage) {
        public double eventsPerCpuSecond() {
            return processedPerSec * seconds / cpuSeconds;
        }
    }

    /**
     * A membership change of the destination's group under load.
     *
     * @param totalMs       from the trigger (child JVM spawned, or SIGTERM) until the group was stable with the new
     *                      member count and every member held partitions
     * @param rebalancingMs of which the group was not stable (first sample not Stable to Stable), -1 if no sample
     *                      caught it (shorter than the 50 ms sampling)
     * @param commandGapMs  the longest pause between two commands reaching the agents meanwhile
     */
    public record Rebalance(long totalMs, long rebalancingMs, long commandGapMs) {
    }
}
