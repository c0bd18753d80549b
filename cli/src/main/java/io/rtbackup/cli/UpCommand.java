package io.rtbackup.cli;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.TransferTuning;
import io.rtbackup.agent.rsync.RsyncExcludes;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.process.ExitingFatalErrorHandler;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.secure.OwnerOnly;
import io.rtbackup.status.StatusHttpHandler;
import io.rtbackup.status.StatusReader;
import io.rtbackup.status.SwitchHandler;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb up}: the single-host mode. A real single-node Kafka broker inside this process, the agent and a
 * worker, wired exactly as a fleet would be; state (the broker's log with the consumer offsets) under
 * {@code --state-dir}, so a restart resumes where the last run stopped.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Back up folders live: embedded Kafka broker, agent and worker in one process.")
final class UpCommand implements Callable<Integer> {
    static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Spec
    CommandSpec spec;

    @Option(names = "--source", required = true, paramLabel = "DIR",
        description = "A folder to back up (repeatable).")
    List<Path> sources;

    @Option(names = "--dest", required = true, paramLabel = "URL_OR_DIR",
        description = "Where to: ssh://[user@]host[:port]/path (with --ssh-key and --known-hosts), a local "
            + "directory, or rsync://[user@]host[:port]/module[/prefix] on a trusted network (repeatable). Daemon "
            + "passwords come from RSYNC_PASSWORD_<NAME> (NAME is printed at start).")
    List<String> dests;

    @Mixin
    SshOptions ssh = new SshOptions();

    @Option(names = "--exclude", paramLabel = "GLOB", description = "Leave out what matches, in every folder "
        + "(repeatable): a glob without '/' matches a name at any depth, one with '/' (or a leading '/') the path "
        + "from the folder; * within a name, ** across '/', ? one character. A matching directory is left out whole.")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--bwlimit", paramLabel = "RATE", description = "Limit every destination's rsync to RATE: "
        + "KiB/s, or with a k/m/g suffix (5m) (default: no limit).")
    String bwlimit;

    @Option(names = "--compress", paramLabel = "ALGO", description = "none, auto, zstd, lz4 or zlib: compress what "
        + "goes to ssh and rsync:// destinations (both ends must support ALGO; local directories never; default: none).")
    String compress;

    @Option(names = "--nice", paramLabel = "N", description = "Run rsync under nice -n N, 0-19 (default: 0, unchanged).")
    String nice;

    @Option(names = "--ionice", paramLabel = "CLASS", description = "Run rsync under ionice: idle, best-effort[:0-7] "
        + "or none (default: none).")
    String ionice;

    @Option(names = "--state-dir", defaultValue = "${user.home}/.rtb", description = "Broker and agent state (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--host-id", description = "Name of this host in the backup (default: the host name).")
    String hostId;

    @Option(names = "--capture", defaultValue = "auto", description = "auto, kmod, fanotify, inotify or scan (default: ${DEFAULT-VALUE}).")
    String capture;

    @Option(names = "--debounce-ms", defaultValue = "100", description = "Quiet time before a changed path is synced again (default: ${DEFAULT-VALUE}).")
    long debounceMs;

    @Option(names = "--max-delay-ms", defaultValue = "1000", description = "Longest wait of a path under constant writes (default: ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(names = "--metrics-port", defaultValue = "0", description = "Serve Prometheus metrics (/metrics) and "
        + "the status page (/status) on this port (default: none).")
    int metricsPort;

    @Option(names = "--keep-versions", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Keep what each sync overwrites or deletes, for 'rtb restore' (default: on; --no-keep-versions: "
            + "a plain mirror).")
    boolean keepVersions;

    @Option(names = "--versions-keep-days", defaultValue = "30", paramLabel = "DAYS",
        description = "Delete kept versions older than this, hourly (0: no age limit; default: ${DEFAULT-VALUE}).")
    int versionsKeepDays;

    @Option(names = "--versions-keep", defaultValue = "0", paramLabel = "N",
        description = "Keep at most the newest N versions per folder (0: no count limit; default: ${DEFAULT-VALUE}).")
    int versionsKeep;

    @Option(names = "--metrics-host", defaultValue = MetricsEndpoint.DEFAULT_HOST,
        description = "Address the metrics port binds (default: ${DEFAULT-VALUE}; any other than loopback needs "
            + MetricsEndpoint.TOKEN_FLAG + ").")
    String metricsHost;

    @Option(names = MetricsEndpoint.TOKEN_FLAG, paramLabel = "FILE", description = "Bearer token (first line; "
        + "mode 600) every request to the metrics port must send; required when --metrics-host is not loopback.")
    Path metricsTokenFile;

    @Option(names = {"-v", "--verbose"}, description = "Log what every component does (default: warnings only; "
        + "the progress lines on standard output are always there).")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (!verbose && System.getenv("RTB_LOG_LEVEL") == null) {
            // One progress line per batch is the interface here; the components' INFO logs are for daemons.
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        }
        PrintStream out = System.out;
        if (versionsKeepDays < 0 || versionsKeep < 0) {
            throw new ParameterException(spec.commandLine(), "--versions-keep-days and --versions-keep must be >= 0 "
                + "(0: no limit)");
        }
        Map<String, Path> roots = rootIds();
        String excludeSetting;
        try {
            excludeSetting = excludeSetting(excludes);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--exclude: " + e.getMessage());
        }
        Map<String, String> destinations = destinationNames();
        checkDestinations(destinations);

        try {
            MetricsEndpoint.check(metricsHost, metricsPort, Optional.ofNullable(metricsTokenFile));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        // Our own state (the broker's log: every path that changed): 0700, a wider existing one is narrowed.
        OwnerOnly.privateDirectory(stateDir).ifPresent(w -> System.err.println("rtb up: warning: " + w));
        BrokerSettings brokerSettings = brokerSettings(stateDir.resolve("kafka"));
        Topics topics = Topics.defaults();
        // the options are checked: the broker starts now, beside the rest of the set-up (UpStartup#launch)
        UpStartup.Launch launch = UpStartup.launch(brokerSettings, topics);
        try {
            return run(out, roots, excludeSetting, destinations, brokerSettings, topics, launch);
        } catch (Exception | Error e) {
            launch.abandon(); // a no-op once handed to UpStartup#start, which closes what it started
            throw e;
        }
    }

    /** The set-up after the broker's launch (settings, keys, metrics endpoint, the parts), then the run till stopped. */
    private int run(PrintStream out, Map<String, Path> roots, String excludeSetting, Map<String, String> destinations,
                    BrokerSettings brokerSettings, Topics topics, UpStartup.Launch launch) throws Exception {
        String bootstrap = brokerSettings.bootstrapServers();

        Properties agentProps = new Properties();
        if (hostId != null) agentProps.setProperty("host.id", hostId);
        roots.forEach((id, dir) -> agentProps.setProperty("root." + id + ".path", dir.toString()));
        if (!excludeSetting.isEmpty()) {
            roots.keySet().forEach(id -> agentProps.setProperty("root." + id + ".exclude", excludeSetting));
        }
        agentProps.setProperty("capture.source", capture);
        agentProps.setProperty(AgentConfig.STATE_DIR, stateDir.resolve("agent").toAbsolutePath().toString());
        agentProps.setProperty("kafka.bootstrap.servers", bootstrap);
        IN_PROCESS_CLIENT.forEach((k, v) -> agentProps.setProperty("kafka." + k, v));
        destinations.forEach((name, url) -> {
            agentProps.setProperty("destination." + name + ".url", url);
            ssh.apply(agentProps, name, url);
            applyTuning(agentProps, name, url);
            if (keepVersions) {
                // A backup, not only a mirror: on by default here (rtb restore reads them).
                agentProps.setProperty("destination." + name + ".keep-versions", "true");
                agentProps.setProperty("destination." + name + ".versions-keep-days", String.valueOf(versionsKeepDays));
                agentProps.setProperty("destination." + name + ".versions-keep", String.valueOf(versionsKeep));
            }
        });
        PrometheusRegistry registry = new PrometheusRegistry();
        String host = AgentConfig.from(agentProps, System.getenv()).capture().hostId();
        // Signed out of the box: this state dir's own host and worker keys (UpKeys).
        UpKeys keys = UpKeys.ensure(stateDir, host);
        keys.applyToAgent(agentProps);
        AgentConfig agentConfig = AgentConfig.from(agentProps, System.getenv());

        Properties workerProps = new Properties();
        workerProps.setProperty("worker.id", "up-" + host.replaceAll("[^A-Za-z0-9._-]", "_"));
        destinations.keySet().forEach(name -> workerProps.setProperty("destination." + name + ".routes", "*:*"));
        workerProps.setProperty("coalesce.debounce-ms", String.valueOf(debounceMs));
        workerProps.setProperty("coalesce.max-delay-ms", String.valueOf(maxDelayMs));
        workerProps.setProperty("status.interval-ms", "1000"); // one host: a fresher status page costs nothing
        IN_PROCESS_CLIENT.forEach((k, v) -> workerProps.setProperty("kafka." + k, v));
        keys.applyToWorker(workerProps);
        WorkerConfig workerConfig = WorkerConfig.fromProperties(workerProps);

        InitialSync initial = new InitialSync(out, roots.keySet(), destinations.keySet());
        StatusReader statusReader = metricsPort <= 0 ? null : new StatusReader(bootstrap, topics,
            Map.of(), Duration.ofSeconds(15), StatusReader.DEFAULT_SCAN_LIMIT, System::currentTimeMillis);
        List<String> destinationNames = List.copyOf(destinations.keySet());
        MetricsEndpoint metrics = MetricsEndpoint.start(registry, metricsHost, metricsPort,
            Optional.ofNullable(metricsTokenFile), statusReader == null ? null
            : new StatusHttpHandler(() -> statusReader.read(destinationNames), "rtb up: " + host, Duration.ofSeconds(2),
                new SwitchHandler(new ControlIssuer(Map.of("bootstrap.servers", bootstrap), topics,
                    Clock.systemUTC(), workerConfig.signing().signer()).pageSwitch(Duration.ofMinutes(10)))));
        // one process: agent or worker giving up ends both, and the next rtb up starts them afresh
        FatalErrorHandler fatal = ExitingFatalErrorHandler.forThisJvm("rtb up " + host, Rtb.FATAL_EXIT_GRACE);
        UpStartup.Started started;
        try {
            started = UpStartup.start(launch, () -> Agent.create(agentConfig, topics, registry, fatal),
                () -> new Worker(workerConfig, topics, bootstrap, registry, report -> {
                    if (!initial.onReport(report)) out.println(line(report));
                }, fatal), a -> {
                    // the marks are placed: a change made from now on is captured, and replicated once Kafka is up
                    if (a.capture().source() != null) {
                        out.println("rtb up: capture source " + a.capture().source().name() + " started, watching "
                            + describe(roots) + " (Kafka still starting: changes wait for it)");
                    }
                });
        } catch (Exception | Error e) {
            metrics.close();
            if (statusReader != null) statusReader.close();
            throw e;
        }
        EmbeddedKafkaBroker broker = started.broker();
        Worker worker = started.worker();
        Agent agent = started.agent();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("rtb up: stopping (pending changes are picked up at the next start)");
            agent.close();
            worker.close();
            metrics.close();
            if (statusReader != null) statusReader.close();
            broker.close();
            stopped.countDown();
        }, "rtb-up-shutdown"));

        // rtb status with no flags finds this broker through it
        UpState.ofThisProcess(broker.bootstrapServers(), "", host, destinationNames).write(stateDir);
        out.println("rtb up: host " + host + ", backing up " + describe(roots) + " to " + describe(destinations)
            + " (state " + stateDir + "); Ctrl-C stops");
        out.println(keepVersions
            ? "kept versions: on (" + (versionsKeepDays == 0 ? "no age limit" : versionsKeepDays + " days")
                + (versionsKeep == 0 ? "" : ", newest " + versionsKeep) + "); rtb restore PATH --at TIME --source DIR "
                + "--dest URL_OR_DIR brings files back"
            : "kept versions: off (--no-keep-versions): the destinations are plain mirrors");
        if (metricsPort > 0) out.println("status page: http://" + metricsHost + ":" + metricsPort + "/status");
        initial.skipPaused(agent.rootSwitch().paused());
        initial.start();
        stopped.await();
        return 0;
    }

    /**
     * Settings of every Kafka client of {@code rtb up}, which talk to a broker in this process over loopback: a
     * refused connection (the broker is still starting: the worker and the agent start during its start, see
     * {@link UpStartup}) or a metadata request answered before the partitions have their leader is tried again
     * within 100 ms, instead of backing off up to Kafka's default second.
     */
    static final Map<String, String> IN_PROCESS_CLIENT = Map.of(
        "reconnect.backoff.max.ms", "100",
        "retry.backoff.max.ms", "100");

    /**
     * The embedded broker's settings: free ports, the log under {@code logDir}, and a short broker session. After a
     * SIGKILL the restarted controller still holds the dead broker's registration and would refuse the new
     * incarnation's until that registration's session expires ({@code broker.session.timeout.ms}, 9 s by default:
     * measured as 9.7 s of the restart); the embedded broker takes that registration off before its broker registers
     * ({@code PreviousIncarnation}), and the short session is what is left to wait if that fails. Broker and
     * controller share this process, so a dead broker means a dead controller too and a long session guards against
     * nothing here; 2 s (heartbeats every 0.5 s) still rides out a JVM stalled for 1.5 s.
     */
    static BrokerSettings brokerSettings(Path logDir) {
        BrokerSettings free = BrokerSettings.onFreePorts(logDir);
        return new BrokerSettings(free.logDir(), free.port(), free.controllerPort(), Map.of(
            "broker.session.timeout.ms", "2000",
            "broker.heartbeat.interval.ms", "500"));
    }

    /** The destinations as the agent will read them, checked before anything starts; errors name the options. */
    private void checkDestinations(Map<String, String> destinations) {
        Properties p = new Properties();
        try {
            ssh.checkUsed(dests);
            destinations.forEach((name, url) -> {
                p.setProperty("destination." + name + ".url", url);
                ssh.apply(p, name, url);
                applyTuning(p, name, url);
            });
            if (compress != null && destinations.values().stream().allMatch(UpCommand::isLocal)) {
                throw new IllegalArgumentException("--compress: every --dest is a local directory, where compression "
                    + "would only cost CPU; leave --compress out");
            }
            ExecConfig.from(p, System.getenv());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (ConfigException e) {
            String name = e.key().replaceAll("^destination\\.([^.]+)\\..*$", "$1");
            String message = SshOptions.explain(e, name);
            for (String setting : List.of(TransferTuning.BWLIMIT, TransferTuning.COMPRESS, TransferTuning.NICE,
                    TransferTuning.IONICE)) {
                message = message.replace("destination." + name + "." + setting, "--" + setting);
            }
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    /** --bwlimit, --compress, --nice and --ionice as settings of destination {@code name}; no compression locally. */
    private void applyTuning(Properties props, String name, String url) {
        String p = "destination." + name + ".";
        if (bwlimit != null) props.setProperty(p + TransferTuning.BWLIMIT, bwlimit);
        if (compress != null && !isLocal(url)) props.setProperty(p + TransferTuning.COMPRESS, compress);
        if (nice != null) props.setProperty(p + TransferTuning.NICE, nice);
        if (ionice != null) props.setProperty(p + TransferTuning.IONICE, ionice);
    }

    private static boolean isLocal(String url) {
        return !url.startsWith(SshOptions.SSH) && !url.startsWith("rsync://");
    }

    /** Root ids from folder names: stable across restarts, so destinations and offsets line up again. */
    private Map<String, Path> rootIds() {
        Map<String, Path> ids = new LinkedHashMap<>();
        for (Path source : sources) {
            Path dir = source.toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new ParameterException(spec.commandLine(), "--source " + source + ": not a directory");
            }
            String base = safeName(dir.getFileName() == null ? "root" : dir.getFileName().toString());
            String id = base;
            for (int i = 2; ids.containsKey(id); i++) id = base + "-" + i;
            ids.put(id, dir);
        }
        return ids;
    }

    private Map<String, String> destinationNames() {
        Map<String, String> names = new LinkedHashMap<>();
        for (String dest : dests) {
            String url;
            String base;
            if (dest.startsWith(SshOptions.SSH)) {
                url = dest;
                base = SshOptions.hostName(dest);
            } else if (dest.startsWith("rsync://")) {
                url = dest;
                String rest = dest.substring("rsync://".length());
                base = safeName(rest.replaceAll("^[^@/]*@", "").replaceAll("[:/].*$", ""));
            } else {
                Path dir = Path.of(dest).toAbsolutePath().normalize();
                try {
                    Files.createDirectories(dir);
                } catch (java.io.IOException e) {
                    throw new ParameterException(spec.commandLine(), "--dest " + dest + ": cannot create: " + e.getMessage());
                }
                url = dir.toString();
                base = safeName(dir.getFileName() == null ? "dest" : dir.getFileName().toString());
            }
            String name = base;
            for (int i = 2; names.containsKey(name); i++) name = base + "-" + i;
            names.put(name, url);
        }
        return names;
    }

    /**
     * The {@code root.<id>.exclude} value for {@code globs}: comma-separated, so a glob may hold no ',' (write '?'
     * for it) and no leading or trailing blank (the setting trims each); rsync gets every glob as an argument, so
     * it must be ASCII ({@link RsyncExcludes#of}).
     *
     * @throws IllegalArgumentException naming the glob that cannot be given
     */
    static String excludeSetting(List<String> globs) {
        for (String g : globs) {
            if (g.isBlank() || g.replace("/", "").isEmpty()) {
                throw new IllegalArgumentException("'" + g + "' matches nothing or the whole folder");
            }
            if (g.indexOf(',') >= 0) {
                throw new IllegalArgumentException("'" + g + "' holds a ',', which separates globs; write '?' for it");
            }
            if (!g.strip().equals(g)) {
                throw new IllegalArgumentException("'" + g + "' starts or ends with a blank; write '?' for it");
            }
        }
        RsyncExcludes.of(globs);
        return String.join(",", globs);
    }

    /** A root id or destination name made from a folder or host name; both must start with a letter or digit. */
    static String safeName(String s) {
        String n = s.replaceAll("[^A-Za-z0-9_-]", "_").replaceFirst("^[_-]+", "");
        if (n.length() > 60) n = n.substring(0, 60);
        return n.isEmpty() ? "x" : n;
    }

    private static String describe(Map<String, ?> m) {
        List<String> parts = new ArrayList<>();
        m.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(", ", parts);
    }

    static String line(SyncReport r) {
        String what = r.fullSync() ? "full sync of " + r.rootId()
            : r.paths() + (r.paths() == 1 ? " path" : " paths") + " (" + String.join(", ", r.samplePaths())
                + (r.paths() > r.samplePaths().size() ? ", ..." : "") + ")";
        String result = r.outcome() == SyncOutcome.OK ? "" : " " + r.outcome() + (r.error() == null ? "" : ": " + r.error());
        return String.format(Locale.ROOT, "%s synced %s -> %s: %s sent, %d ms%s%s", LocalTime.now().format(CLOCK), what,
            r.destination(), bytes(r.bytesSent()), r.rsyncDurationMs(),
            r.latencyMs() >= 0 ? " (change to replica " + r.latencyMs() + " ms)" : "", result);
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
        return String.format(Locale.ROOT, "%.2f GiB", n / 1073741824.0);
    }
}
