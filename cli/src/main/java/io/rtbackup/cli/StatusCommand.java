package io.rtbackup.cli;

import io.rtbackup.kafka.KafkaAccessErrors;
import io.rtbackup.status.FleetStatus;
import io.rtbackup.status.FleetStatus.DestinationStatus;
import io.rtbackup.status.FleetStatus.RootStatus;
import io.rtbackup.status.StatusJson;
import io.rtbackup.status.StatusPage;
import io.rtbackup.status.StatusReader;
import io.rtbackup.status.StatusUnavailableException;
import io.rtbackup.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb status}: per destination and per (host, root), how far the backup is behind, read from Kafka alone
 * (see {@link StatusReader}). With neither {@code --config} nor {@code --bootstrap-servers} it reports on the
 * {@code rtb up} of {@code --state-dir}, found through its {@link UpState} record. Exit code for monitoring, in the same scheme as {@code rtb verify}: 0 every
 * destination within the thresholds, {@value #EXIT_LAGGING} some destination over {@code --max-lag-s} /
 * {@code --max-lag-events}, 2 a usage error, {@value #EXIT_UNAVAILABLE} the status cannot be read (Kafka
 * unreachable, topics missing).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show replication lag, breaker state, last success and last error per destination and host/root.",
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:every destination within the thresholds", "1:a destination is over --max-lag-s or --max-lag-events",
        "2:usage error", "3:cannot read the status (Kafka unreachable, topics missing, the recorded rtb up not running)"})
final class StatusCommand implements Callable<Integer> {
    static final int EXIT_LAGGING = 1;
    static final int EXIT_UNAVAILABLE = 3;
    private static final Pattern DESTINATION_KEY = Pattern.compile("destination\\.([^.]+)\\.routes");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
        .withZone(ZoneOffset.UTC);

    @Spec
    CommandSpec spec;

    @Option(names = "--config", description = "A worker properties file: its Kafka address and kafka.* client "
        + "settings are used, and its destinations are reported even before any worker served them.")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--state-dir", defaultValue = "${user.home}/.rtb", paramLabel = "DIR", description = "Without "
        + "--config and --bootstrap-servers: report on the rtb up that runs with this state dir, from its "
        + UpState.FILE + " (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Option(names = "--destination", paramLabel = "NAME", description = "Report and check only this destination "
        + "(repeatable; default: every destination known to Kafka and the config).")
    List<String> onlyDestinations;

    @Option(names = "--json", description = "Print the status as JSON (for scripts).")
    boolean json;

    @Option(names = "--max-lag-s", paramLabel = "SECONDS", description = "Exit " + EXIT_LAGGING + " when the oldest "
        + "event not yet on a destination is older than this.")
    Double maxLagSeconds;

    @Option(names = "--max-lag-events", paramLabel = "N", description = "Exit " + EXIT_LAGGING + " when more than N "
        + "events are not yet on a destination.")
    Long maxLagEvents;

    @Option(names = "--timeout-s", defaultValue = "15", description = "Give up reading Kafka after this long "
        + "(default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--scan-limit", defaultValue = "" + StatusReader.DEFAULT_SCAN_LIMIT, description = "Unconsumed "
        + "events read per partition for the per-host/root breakdown (default: ${DEFAULT-VALUE}).")
    int scanLimit;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Properties props = config != null ? PropertiesFile.load(spec, config) : new Properties();
        String bootstrap = bootstrapServers != null ? bootstrapServers : props.getProperty("kafka.bootstrap.servers");
        Set<String> expected = new LinkedHashSet<>();
        if (config == null && bootstrapServers == null) {
            Optional<UpState> up;
            try {
                up = UpState.read(stateDir);
            } catch (IOException e) {
                err.println("rtb status: " + e.getMessage());
                err.flush();
                return EXIT_UNAVAILABLE;
            }
            if (up.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "no Kafka address: pass --bootstrap-servers or "
                    + "--config with kafka.bootstrap.servers (no rtb up recorded in " + UpState.file(stateDir) + ")");
            }
            if (!up.get().running()) {
                err.println("rtb status: rtb up is not running: " + UpState.file(stateDir) + " records pid "
                    + up.get().pid() + up.get().processStart().map(t -> " started " + t).orElse("")
                    + ", which has ended; start rtb up again, or pass --bootstrap-servers or --config");
                err.flush();
                return EXIT_UNAVAILABLE;
            }
            bootstrap = up.get().bootstrapServers();
            if (!spec.commandLine().getParseResult().hasMatchedOption("--topic-prefix")) {
                topicPrefix = up.get().topicPrefix();
            }
            expected.addAll(up.get().destinations());
        }
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ParameterException(spec.commandLine(),
                "no Kafka address: pass --bootstrap-servers or --config with kafka.bootstrap.servers");
        }
        if (timeoutSeconds < 1) throw new ParameterException(spec.commandLine(), "--timeout-s must be >= 1");
        if (scanLimit < 0) throw new ParameterException(spec.commandLine(), "--scan-limit must be >= 0");
        for (String k : props.stringPropertyNames()) {
            Matcher m = DESTINATION_KEY.matcher(k);
            if (m.matches()) expected.add(m.group(1));
        }
        Map<String, String> kafka = KafkaAccess.clientSettings(spec, config, props);
        if (onlyDestinations != null) expected.addAll(onlyDestinations);

        KafkaAccess.quietKafkaLogs();
        FleetStatus status;
        try (StatusReader reader = new StatusReader(bootstrap, Topics.withPrefix(topicPrefix), kafka,
            Duration.ofSeconds(timeoutSeconds), scanLimit, System::currentTimeMillis)) {
            status = reader.read(expected);
        } catch (StatusUnavailableException e) {
            err.println("rtb status: " + KafkaAccessErrors.explain(e).orElse(e.getMessage()));
            err.flush();
            return EXIT_UNAVAILABLE;
        }
        if (onlyDestinations != null) {
            status = new FleetStatus(status.takenAtMs(), status.eventsTopic(), status.destinations().stream()
                .filter(d -> onlyDestinations.contains(d.name())).toList(), status.switches());
        }

        List<String> over = new ArrayList<>();
        for (DestinationStatus d : status.destinations()) {
            if (maxLagSeconds != null && d.lagSeconds() > maxLagSeconds) {
                over.add(String.format(Locale.ROOT, "%s: oldest unreplicated event %.1f s old > --max-lag-s %s",
                    d.name(), d.lagSeconds(), maxLagSeconds));
            } else if (maxLagEvents != null && d.lagEvents() > maxLagEvents) {
                over.add(d.name() + ": " + d.lagEvents() + " events behind > --max-lag-events " + maxLagEvents);
            }
        }
        if (json) out.println(StatusJson.write(status));
        else {
            print(out, status);
            SwitchReport.print(out, status);
        }
        out.flush();
        if (!over.isEmpty()) {
            for (String o : over) err.println("rtb status: LAGGING " + shown(o));
            err.flush();
            return EXIT_LAGGING;
        }
        return 0;
    }

    private static void print(PrintWriter out, FleetStatus s) {
        out.printf(Locale.ROOT, "rtb status of %s at %s%n", shown(s.eventsTopic()), time(s.takenAtMs()));
        if (s.destinations().isEmpty()) {
            out.println("no destination known: no worker has reported and no consumer group has committed yet");
            return;
        }
        out.printf(Locale.ROOT, "%-20s %12s %9s %-10s %-6s %9s %9s  %-20s  %s%n", "DESTINATION", "LAG-EVENTS",
            "LAG-S", "BREAKER", "PAUSED", "SYNCS-OK", "FAILED", "LAST-SUCCESS", "LAST-ERROR");
        for (DestinationStatus d : s.destinations()) {
            out.printf(Locale.ROOT, "%-20s %12d %9.1f %-10s %-6s %9d %9d  %-20s  %s%n", shown(d.name()), d.lagEvents(),
                d.lagSeconds(), d.breakerState(), d.paused() ? "yes" : "no", d.syncsOk(), d.syncsFailed(),
                time(d.lastSuccessMs()), d.lastError() == null ? "-" : time(d.lastErrorMs()) + " " + shown(d.lastError()));
            for (RootStatus r : d.roots()) {
                out.printf(Locale.ROOT, "  %-30s %10s %9.1f  last success %-20s  last error %s%n",
                    shown(r.host() + ":" + r.root()), r.lagEvents() + (r.lagComplete() ? "" : "+"), r.lagSeconds(),
                    time(r.lastSuccessMs()), r.lastError() == null ? "-" : time(r.lastErrorMs()) + " " + shown(r.lastError()));
                if (r.lastReconcile() != null) {
                    out.printf(Locale.ROOT, "  %-30s last reconciliation %s %s%n", "",
                        time(r.lastReconcile().finishedAtMs()), shown(StatusPage.describe(r.lastReconcile())));
                }
            }
            for (FleetStatus.StuckPath p : d.stuckPaths()) {
                out.printf(Locale.ROOT, "  STUCK %s path %s since %s (%d attempt%s): %s%n",
                    shown(p.host() + ":" + p.root()), shown(p.path()), time(p.sinceMs()), p.attempts(),
                    p.attempts() == 1 ? "" : "s", shown(p.reason()));
            }
            if (d.workers().isEmpty()) out.println("  no worker reports this destination (none running, or older than status records)");
        }
    }

    /** Terminal-safe: control characters (from file names, rsync output) as visible escapes. */
    private static String shown(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    private static String time(long ms) {
        return ms <= 0 ? "-" : TIME.format(Instant.ofEpochMilli(ms));
    }
}
