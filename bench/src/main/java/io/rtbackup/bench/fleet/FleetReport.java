package io.rtbackup.bench.fleet;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The simulator's figures as Markdown: one section per run, and the command read cost before and after. */
final class FleetReport {
    private FleetReport() {
    }

    static String run(String title, FleetResult r) {
        StringBuilder b = new StringBuilder();
        b.append("## ").append(title).append("\n\n").append(r.options().describe()).append("; commands topic: ")
            .append(r.commandPartitions()).append(" partitions.\n\n");
        b.append("| window | workers | offered ev/s | synced ev/s | committed ev/s | worker CPU s | CPU per worker s "
            + "| events per worker CPU-s | commands per worker CPU-s | max lag | end lag | command delivery p50/p99 ms | command round trip "
            + "p50/p99 ms | commands/s | load avg |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (FleetResult.Window w : r.windows()) {
            b.append("| ").append(w.name()).append(" | ").append(w.workers()).append(" | ")
                .append(f0(w.offeredPerSec())).append(" | ").append(f0(w.processedPerSec())).append(" | ")
                .append(f0(w.committedPerSec())).append(" | ").append(f1(w.cpuSeconds())).append(" | ")
                .append(w.cpuPerWorker().stream().map(FleetReport::f1).collect(Collectors.joining(" + ")))
                .append(" | ").append(f0(w.eventsPerCpuSecond())).append(" | ")
                .append(f0(w.commandsPerSec() * w.seconds() / w.cpuSeconds())).append(" | ").append(w.maxLag()).append(" | ")
                .append(w.endLag()).append(" | ").append(w.deliveryP50()).append(" / ").append(w.deliveryP99())
                .append(" | ").append(w.roundTripP50()).append(" / ").append(w.roundTripP99()).append(" | ")
                .append(f0(w.commandsPerSec())).append(" | ").append(f1(w.loadAverage())).append(" |\n");
        }
        b.append('\n');
        if (r.windows().size() == 2) {
            FleetResult.Window one = r.windows().get(0);
            FleetResult.Window two = r.windows().get(1);
            b.append(String.format(Locale.ROOT, "From one worker to two: synced %.0f -> %.0f events/s (x%.2f), "
                    + "events per worker CPU-second %.0f -> %.0f (x%.2f).%n%n", one.processedPerSec(),
                two.processedPerSec(), two.processedPerSec() / one.processedPerSec(), one.eventsPerCpuSecond(),
                two.eventsPerCpuSecond(), two.eventsPerCpuSecond() / one.eventsPerCpuSecond()));
        }
        if (r.join() != null) {
            b.append(rebalance("a worker joins (child JVM spawned -> group stable with 2 members)", r.join()));
        }
        if (r.leave() != null) {
            b.append(rebalance("a worker leaves (SIGTERM -> group stable with 1 member; static membership, session "
                + "timeout " + r.options().sessionTimeoutMs() + " ms)", r.leave()));
        }
        if (r.join() != null || r.leave() != null) b.append('\n');
        b.append(fanIn(r));
        b.append(resultFanIn(r));
        b.append(r.convergedMs() >= 0
            ? String.format(Locale.ROOT, "Converged: every changed path had an OK result %d ms after the load "
                + "stopped.%n", r.convergedMs())
            : "NOT converged: " + r.unsynced() + " path(s) without an OK result 120 s after the load stopped.\n");
        b.append("Command records outside their host's partition: ").append(r.misplacedCommands()).append(".\n");
        b.append("Result records outside the partition their worker reads: ").append(r.misplacedResults())
            .append(".\n\n");
        return b.toString();
    }

    private static String rebalance(String what, FleetResult.Rebalance r) {
        return "- Rebalance when " + what + ": " + r.totalMs() + " ms, of which not Stable "
            + (r.rebalancingMs() < 0 ? "< 50" : Long.toString(r.rebalancingMs())) + " ms; longest pause in "
            + "commands meanwhile " + r.commandGapMs() + " ms.\n";
    }

    private static String fanIn(FleetResult r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Command read cost of one agent (%.1f commands/s over the fleet in the "
            + "windows, %.0f B per record; counted over the whole run, %.0f s; an agent reads its host's partition "
            + "and skips the other hosts' records):%n%n", r.commandsPerSecond(), r.meanCommandBytes(),
            r.countedSeconds()));
        b.append("| commands partitions | hosts per partition | records addressed to an agent per s | records it "
            + "reads per s | read / addressed (mean) | busiest agent reads per s | bytes it reads per s |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        List<CommandFanIn.Ratio> all = r.fanIn();
        double scale = 1 / r.countedSeconds(); // the counts cover the whole run
        for (int i = 0; i < all.size(); i++) {
            CommandFanIn.Ratio x = all.get(i);
            b.append("| ").append(x.partitions()).append(i == 0 ? " (measured)" : " (worked out from the same "
                + "commands)").append(" | ").append(f1((double) r.options().hosts() / x.partitions())).append(" | ")
                .append(f3(x.meanAddressed() * scale)).append(" | ").append(f2(x.meanRead() * scale)).append(" | ")
                .append(f1(x.meanRatio())).append(" | ").append(f2(x.maxRead() * scale)).append(" | ")
                .append(f0(x.meanRead() * scale * r.meanCommandBytes())).append(" |\n");
        }
        b.append('\n');
        return b.toString();
    }

    private static String resultFanIn(FleetResult r) {
        StringBuilder b = new StringBuilder();
        b.append("Result read cost of one worker (records its results listener reads per record addressed to it; "
            + "mean over the workers; before: every partition of the results topic, now: the partition its id maps "
            + "to; measured from this run's result records, worked out for more workers with equal shares):\n\n");
        b.append("| | workers | results partitions | read / addressed, every partition (before) | read / addressed, "
            + "its own partition (now) |\n");
        b.append("| --- | --- | --- | --- | --- |\n");
        for (ResultFanIn.Ratio x : r.resultFanIn()) {
            b.append("| ").append(x.how()).append(" | ").append(x.workers()).append(" | ").append(x.partitions())
                .append(" | ").append(f2(x.everyPartition())).append(" | ").append(f2(x.ownPartition())).append(" |\n");
        }
        b.append('\n');
        return b.toString();
    }

    private static String f0(double d) {
        return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%.0f", d);
    }

    private static String f1(double d) {
        return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%.1f", d);
    }

    private static String f2(double d) {
        return String.format(Locale.ROOT, "%.2f", d);
    }

    private static String f3(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }
}
