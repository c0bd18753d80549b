package io.rtbackup.cli;

import io.rtbackup.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options {@code rtb dlq list} and {@code rtb dlq replay} share: where Kafka is ({@link KafkaAccess}), which
 * topics, and which dead letters: by kind, destination, age and count. {@link #select} keeps the letters that pass
 * every filter given, oldest first, at most {@code --limit} of them.
 */
final class DlqSelection {
    private static final Pattern AGO = Pattern.compile("(\\d+)([smhd])");

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file (worker or agent config): its "
        + "kafka.bootstrap.servers and kafka.* client settings (TLS, SASL) are used.")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Option(names = "--kind", paramLabel = "KIND", description = "Only letters of this kind (repeatable): "
        + "undecodable-event, invalid-event, rejected-command, partial-command.")
    List<String> kinds;

    @Option(names = "--destination", paramLabel = "NAME", description = "Only letters of this destination (repeatable).")
    List<String> destinations;

    @Option(names = "--since", paramLabel = "TIME", description = "Only letters stored at or after TIME: an instant "
        + "(2026-12-07T03:00:00Z) or an age (90s, 30m, 12h, 7d).")
    String since;

    @Option(names = "--limit", paramLabel = "N", description = "At most the N oldest selected letters.")
    Integer limit;

    @Option(names = "--timeout-s", defaultValue = "15", description = "Give up on Kafka after this long "
        + "(default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    KafkaAccess kafka() {
        return KafkaAccess.of(spec, config, bootstrapServers);
    }

    Topics topics() {
        return Topics.withPrefix(topicPrefix);
    }

    Duration timeout() {
        if (timeoutSeconds < 1) throw new ParameterException(spec.commandLine(), "--timeout-s must be >= 1");
        return Duration.ofSeconds(timeoutSeconds);
    }

    /** Checks the filters before anything talks to Kafka (usage errors first). */
    void validate(long nowMs) {
        sinceMs(nowMs);
        timeout();
        if (limit != null && limit < 1) throw new ParameterException(spec.commandLine(), "--limit must be >= 1");
    }

    /** The letters that pass the filters, oldest first (partition, then offset), at most {@code --limit}. */
    List<StoredDeadLetter> select(List<StoredDeadLetter> all, Set<Long> offsets, long nowMs) {
        long sinceMs = sinceMs(nowMs);
        List<StoredDeadLetter> out = new ArrayList<>();
        for (StoredDeadLetter l : all) {
            if (kinds != null && !kinds.contains(l.kind())) continue;
            if (destinations != null && !destinations.contains(l.destination())) continue;
            if (l.timestampMs() < sinceMs) continue;
            if (!offsets.isEmpty() && !offsets.contains(l.offset())) continue;
            if (limit != null && out.size() >= limit) break;
            out.add(l);
        }
        return out;
    }

    private long sinceMs(long nowMs) {
        if (since == null) return Long.MIN_VALUE;
        Matcher m = AGO.matcher(since.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return nowMs - d.toMillis();
        }
        try {
            return Instant.parse(since.trim()).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new ParameterException(spec.commandLine(), "--since '" + since + "' is neither an instant like "
                + "2026-12-07T03:00:00Z nor an age like 30m, 12h or 7d");
        }
    }
}
