package io.rtbackup.bench.fleet;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.process.ExitingFatalErrorHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * {@code bench/run fleet}: a real KRaft broker in this JVM, then two simulator runs on it — first with the commands
 * topic at the catalog's 6 partitions (how it was before it was sized to the fleet; one worker, short), then the
 * full run with the commands topic sized to the fleet — printed and written as Markdown to {@code --out}.
 * Options are {@link FleetOptions#parse}'s; {@code --no-before} skips the first run.
 */
public final class FleetBench {
    private FleetBench() {
    }

    public static void main(String[] args) throws Exception {
        boolean before = true;
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.equals("--no-before")) before = false;
            else rest.add(a);
        }
        FleetOptions o = FleetOptions.parse(rest.toArray(String[]::new));
        Path work = Files.createTempDirectory("rtb-fleet-");
        StringBuilder report = new StringBuilder("# Fleet simulator\n\n").append("`bench/run fleet")
            .append(args.length == 0 ? "" : " " + String.join(" ", args)).append("`, ").append(Instant.now())
            .append(", ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs; one JVM plays the "
                + "fleet and holds the broker, each worker is a JVM of its own.\n\n");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(work.resolve("kafka")))) {
            var fatal = ExitingFatalErrorHandler.forThisJvm("fleet simulator", Duration.ofSeconds(10));
            if (before) {
                FleetOptions b = new FleetOptions(o.hosts(), o.eventsPerSecond(), o.filesPerHost(), o.zipf(),
                    o.rsyncMs(), o.failureRate(), Math.min(10, o.warmupSeconds()), Math.min(20, o.phaseSeconds()),
                    false, o.childJvms(), false, o.bulkhead(), o.sessionTimeoutMs(), null);
                String part = FleetReport.run("Before: commands topic at the catalog's partitions",
                    new FleetSimulator(b, broker.bootstrapServers(), work, fatal).run());
                System.out.print(part);
                report.append(part);
            }
            String part = FleetReport.run(o.fleetSizedCommands() ? "After: commands topic sized to the fleet"
                : "Commands topic at the catalog's partitions", new FleetSimulator(o, broker.bootstrapServers(), work,
                fatal).run());
            System.out.print(part);
            report.append(part);
        }
        if (o.out() != null) {
            Path out = Path.of(o.out());
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            Files.writeString(out, report);
        }
        deleteQuietly(work);
        System.exit(0); // the broker's and clients' leftover non-daemon threads must not keep the run alive
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }
}
