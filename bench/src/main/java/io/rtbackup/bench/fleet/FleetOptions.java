package io.rtbackup.bench.fleet;

import io.rtbackup.worker.config.WorkerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * What the fleet simulator plays: how many hosts, how fast and where they change files, how their simulated rsync
 * runs behave, how long each phase lasts and how the commands topic is sized.
 *
 * @param hosts             simulated source hosts, one root {@code r} each
 * @param eventsPerSecond   FileEvents per second over the whole fleet (a host is picked uniformly)
 * @param filesPerHost      distinct paths per host
 * @param zipf              exponent of the path popularity within a host (0: uniform; 1: a few hot files)
 * @param rsyncMs           mean simulated rsync duration; each run takes uniformly 0.5x to 1.5x of it
 * @param failureRate       share of commands answered FAILED (exit 12, the destination's) instead of OK
 * @param warmupSeconds     load before a measured window (JIT, group join)
 * @param phaseSeconds      length of each measured window
 * @param twoWorkers        also measure with a second worker, and the rebalances when it joins and leaves
 * @param childJvms         workers as child JVMs (CPU measured from /proc/PID/stat) or in this JVM (no CPU figure)
 * @param fleetSizedCommands register every host's agent group before provisioning, so the commands topic is sized
 *                           to the fleet (the rule of CommandPartitions); false keeps the catalog's 6 partitions,
 *                           as before that rule
 * @param bulkhead          the worker's bulkhead.max-concurrent (commands in flight per destination per worker);
 *                          0 leaves the worker's default
 * @param sessionTimeoutMs  the workers' kafka.session.timeout.ms (a leaving static member is noticed after it)
 * @param out               where the Markdown report goes (null: only stdout)
 */
public record FleetOptions(int hosts, int eventsPerSecond, int filesPerHost, double zipf, int rsyncMs,
                           double failureRate, int warmupSeconds, int phaseSeconds, boolean twoWorkers,
                           boolean childJvms, boolean fleetSizedCommands, int bulkhead, int sessionTimeoutMs,
                           String out) {

    public static FleetOptions defaults() {
        return new FleetOptions(1000, 1000, 200, 1.0, 50, 0.02, 15, 30, true, true, true, 0, 45_000, null);
    }

    /** {@code --hosts N --rate N --files N --zipf X --rsync-ms N --failure-rate X --warmup-s N --phase-s N
     * --one-worker --in-process --catalog-commands --bulkhead N --session-timeout-ms N --out FILE}. */
    public static FleetOptions parse(String[] args) {
        FleetOptions o = defaults();
        List<String> a = new ArrayList<>(List.of(args));
        for (int i = 0; i < a.size(); i++) {
            String k = a.get(i);
            switch (k) {
                case "--one-worker" -> o = o.with(false, o.childJvms, o.fleetSizedCommands);
                case "--in-process" -> o = o.with(o.twoWorkers, false, o.fleetSizedCommands);
                case "--catalog-commands" -> o = o.with(o.twoWorkers, o.childJvms, false);
                default -> {
                    if (i + 1 >= a.size()) throw new IllegalArgumentException("unknown option or missing value: " + k);
                    String v = a.get(++i);
                    o = switch (k) {
                        case "--hosts" -> new FleetOptions(Integer.parseInt(v), o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--rate" -> new FleetOptions(o.hosts, Integer.parseInt(v), o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--files" -> new FleetOptions(o.hosts, o.eventsPerSecond, Integer.parseInt(v), o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--zipf" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost,
                            Double.parseDouble(v), o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds,
                            o.twoWorkers, o.childJvms, o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--rsync-ms" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            Integer.parseInt(v), o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers,
                            o.childJvms, o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--failure-rate" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, Double.parseDouble(v), o.warmupSeconds, o.phaseSeconds, o.twoWorkers,
                            o.childJvms, o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--warmup-s" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, Integer.parseInt(v), o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--phase-s" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, Integer.parseInt(v), o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, o.out);
                        case "--bulkhead" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, Integer.parseInt(v), o.sessionTimeoutMs, o.out);
                        case "--session-timeout-ms" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost,
                            o.zipf, o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers,
                            o.childJvms, o.fleetSizedCommands, o.bulkhead, Integer.parseInt(v), o.out);
                        case "--out" -> new FleetOptions(o.hosts, o.eventsPerSecond, o.filesPerHost, o.zipf,
                            o.rsyncMs, o.failureRate, o.warmupSeconds, o.phaseSeconds, o.twoWorkers, o.childJvms,
                            o.fleetSizedCommands, o.bulkhead, o.sessionTimeoutMs, v);
                        default -> throw new IllegalArgumentException("unknown option: " + k);
                    };
                }
            }
        }
        return o;
    }

    private FleetOptions with(boolean twoWorkers, boolean childJvms, boolean fleetSizedCommands) {
        return new FleetOptions(hosts, eventsPerSecond, filesPerHost, zipf, rsyncMs, failureRate, warmupSeconds,
            phaseSeconds, twoWorkers, childJvms, fleetSizedCommands, bulkhead, sessionTimeoutMs, out);
    }

    /** One line for the report's header. */
    public String describe() {
        return hosts + " hosts, " + eventsPerSecond + " events/s (" + filesPerHost + " files per host, zipf " + zipf
            + "), rsync " + rsyncMs + " ms mean, " + Math.round(failureRate * 100) + " % FAILED, windows "
            + warmupSeconds + " s warm-up + " + phaseSeconds + " s, bulkhead "
            + (bulkhead > 0 ? Integer.toString(bulkhead) : "the worker's default (" + WorkerConfig.DEFAULT_BULKHEAD
                + ")") + ", commands topic "
            + (fleetSizedCommands ? "sized to the fleet" : "the catalog's 6 partitions") + ", workers "
            + (childJvms ? "in child JVMs" : "in this JVM");
    }
}
