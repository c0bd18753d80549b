package io.rtbackup.cli;

import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.schema.signing.SigningSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What {@code rtb pause} and {@code rtb resume} share: finding Kafka (a config file, {@code --bootstrap-servers},
 * or the running {@code rtb up} of {@code --state-dir}), the host and roots, sending one command per root through
 * the {@link ControlIssuer} and printing what each agent answered. Exit codes: 0 every agent applied it, 1 some
 * agent has not answered within {@code --wait-s} (the command stays on the topic and is applied when it runs),
 * 2 usage, 3 Kafka could not be written or read.
 */
abstract class SwitchCommand implements Callable<Integer> {
    static final int EXIT_NOT_APPLIED = 1;
    static final int EXIT_UNAVAILABLE = 3;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
        .withZone(ZoneOffset.UTC);

    @Spec
    CommandSpec spec;

    @Option(names = "--host", paramLabel = "HOST", description = "The source host (default: the host of the rtb up "
        + "of --state-dir).")
    String host;

    @Option(names = "--root", paramLabel = "ROOT", description = "A root id of that host (repeatable; default: every "
        + "root its agent reported).")
    List<String> roots = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file with kafka.bootstrap.servers "
        + "and the kafka.* client settings of a principal allowed to write the control topic (a worker's config).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--state-dir", defaultValue = "${user.home}/.rtb", paramLabel = "DIR", description = "Without "
        + "--config and --bootstrap-servers: the running rtb up with this state dir (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Option(names = "--signing-key", paramLabel = "FILE", description = "A worker's private key to sign the switch "
        + "with (agents with a signing.keyring take only signed ones; default: signing.key of --config, or the worker "
        + "key of the rtb up of --state-dir).")
    Path signingKey;

    @Option(names = "--wait-s", defaultValue = "600", paramLabel = "SECONDS", description = "How long to wait for the "
        + "agent's answer; a resume's answer comes after its reconciliation (default: ${DEFAULT-VALUE}).")
    int waitSeconds;

    abstract ControlAction action();

    /** The reason given ({@code rtb pause --reason}); empty for a resume. */
    abstract String reason();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String name = "rtb " + spec.name();
        KafkaAccess access;
        if (config == null && bootstrapServers == null) {
            Optional<UpState> up;
            try {
                up = UpState.read(stateDir);
            } catch (IOException e) {
                err.println(name + ": " + e.getMessage());
                err.flush();
                return EXIT_UNAVAILABLE;
            }
            if (up.isEmpty() || !up.get().running()) {
                throw new ParameterException(spec.commandLine(), "no Kafka address: pass --config or "
                    + "--bootstrap-servers (no running rtb up recorded in " + UpState.file(stateDir) + ")");
            }
            access = new KafkaAccess(up.get().bootstrapServers(), Map.of());
            if (signingKey == null && Files.exists(UpKeys.workerKey(stateDir))) signingKey = UpKeys.workerKey(stateDir);
            if (host == null) host = up.get().hostId();
            if (!spec.commandLine().getParseResult().hasMatchedOption("--topic-prefix")) {
                topicPrefix = up.get().topicPrefix();
            }
        } else {
            access = KafkaAccess.of(spec, config, bootstrapServers);
            if (signingKey == null && config != null) {
                String k = PropertiesFile.load(spec, config).getProperty(SigningSettings.KEY, "").trim();
                if (!k.isEmpty()) signingKey = Path.of(k);
            }
        }
        RecordSigner signer;
        try {
            signer = signingKey == null ? RecordSigner.NONE : new RecordSigner(SigningKey.load(signingKey));
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--signing-key: " + e.getMessage());
        }
        if (host == null) throw new ParameterException(spec.commandLine(), "--host is required with --config or "
            + "--bootstrap-servers");
        if (waitSeconds < 0) throw new ParameterException(spec.commandLine(), "--wait-s must be >= 0");
        KafkaAccess.quietKafkaLogs();
        ControlIssuer issuer = new ControlIssuer(access.clientProperties(), Topics.withPrefix(topicPrefix),
            Clock.systemUTC(), signer);
        int exit = 0;
        try {
            List<String> targets = roots.isEmpty() ? List.copyOf(issuer.rootsOf(host, Duration.ofSeconds(15)).keySet())
                : roots;
            if (targets.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "no root of host " + host + " is known (its agent "
                    + "reports its roots when it starts): name one with --root");
            }
            for (String root : targets) {
                ControlIssuer.Outcome o = issuer.issue(host, root, action(), reason(), issuedBy(),
                    Duration.ofSeconds(waitSeconds));
                if (o.applied().isPresent()) {
                    out.println(name + ": " + describe(o.applied().get()));
                } else {
                    exit = EXIT_NOT_APPLIED;
                    out.println(name + ": root " + root + " of host " + host + ": sent, but its agent has not applied "
                        + "it within " + waitSeconds + " s (not running?); it applies it when it runs, and `rtb status`"
                        + " shows it as requested until then");
                }
                out.flush();
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (IllegalStateException | org.apache.kafka.common.KafkaException e) {
            err.println(name + ": " + e.getMessage());
            err.flush();
            return EXIT_UNAVAILABLE;
        }
        return exit;
    }

    /** One line for the agent's answer. */
    static String describe(RootControlState s) {
        String what = "root " + s.getRootId() + " of host " + s.getHostId() + ": ";
        if (!s.getPaused()) return what + s.getNote();
        return what + s.getNote() + " (paused since " + TIME.format(Instant.ofEpochMilli(s.getSinceMs()))
            + (s.getReason().isEmpty() ? "" : ", reason: " + s.getReason()) + ")";
    }

    /** Who asks, for the record: the user and this host's name. */
    static String issuedBy() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return System.getProperty("user.name", "unknown") + "@" + host;
    }
}
