package io.rtbackup.worker.config;

import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.kafka.SettingException;
import io.rtbackup.schema.Identifier;
import io.rtbackup.schema.RemotePrefix;
import io.rtbackup.schema.signing.SigningSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything a worker needs besides the broker address and topic names.
 *
 * <p>Built from properties (see {@link #fromProperties(Properties)}):
 * <pre>
 * worker.id=worker-1                              # required; results are addressed to this id
 * worker.destinations=nas,offsite                 # optional: serve only these (default: every destination)
 * destination.nas.routes=web-*:www,db1:*          # required per destination: host-glob:root-glob,...
 * destination.nas.prefix={host}/{root}/           # optional remote prefix template (this is the default)
 * coalesce.debounce-ms=100  coalesce.max-delay-ms=1000  coalesce.batch-max-paths=1000
 * coalesce.max-pending-paths=100000  coalesce.catch-up-lag=0  coalesce.max-in-flight-per-root=1
 * retry.max-attempts=5  retry.initial-backoff-ms=200  retry.multiplier=2.0  retry.max-backoff-ms=30000
 * retry.stuck-interval-ms=60000                   # how often a stuck path (unreadable on its host) is tried again
 * breaker.failure-rate-threshold=50  breaker.sliding-window=10  breaker.minimum-calls=3
 * breaker.open-wait-ms=500  breaker.max-open-wait-ms=1000  breaker.half-open-calls=1   # open wait doubles per failed probe
 * bulkhead.max-concurrent=64                     # commands in flight per destination from this worker
 * bulkhead.max-per-host=4                         # of which one source host holds at most this many (and at most half)
 * result.timeout-ms=300000  result.full-sync-timeout-ms=21600000
 * commit.interval-ms=1000
 * status.interval-ms=5000                         # how often the worker publishes its status record (rtb status)
 * kafka.&lt;client property&gt;=...                     # passed to every Kafka client (e.g. kafka.security.protocol)
 * signing.key=/etc/rtbackup/keys/worker-1.key    # signs this worker's commands (agents run only signed ones)
 * signing.keyring=/etc/rtbackup/hosts            # hosts' public keys, &lt;host&gt;.pub: whose events and results count
 * signing.required=true                          # default with a keyring; false also takes unsigned ones (upgrades)
 * </pre>
 * Unknown keys under these prefixes are errors (a typo must not silently fall back to a default); keys with
 * other prefixes are ignored so one file can hold several components' settings.
 */
public record WorkerConfig(
    String workerId,
    List<DestinationConfig> destinations,
    CoalesceSettings coalesce,
    RetrySettings retry,
    BreakerSettings breaker,
    int bulkheadMaxConcurrent,
    int bulkheadMaxPerHost,
    Duration resultTimeout,
    Duration fullSyncResultTimeout,
    Duration commitInterval,
    Duration statusInterval,
    Map<String, String> kafka,
    SigningSettings signing) {

    /**
     * Default of {@code bulkhead.max-concurrent}. By Little's law a worker issues at most slots / round trip commands
     * per second to a destination; measured with the fleet simulator (1,000 hosts, 1,000 events/s, 300 ms rsync
     * runs, docs/capacity.md), one worker needed ~52 commands in flight (112 commands/s at a 0.46 s round trip): 4
     * fell behind for good, 64 kept up. 64 is also what one rsync daemon or sshd serves at once without tuning
     * (rsyncd's {@code max connections} is unlimited unless set; set it, or this, so that the sum over the
     * workers fits).
     */
    public static final int DEFAULT_BULKHEAD = 64;
    /**
     * Default of {@code bulkhead.max-per-host}: an agent runs 2 rsyncs per destination at once by default
     * ({@code destination.<name>.max-concurrent}), so 4 keeps it busy with the next two queued, while a host that
     * stops answering holds 4 of the 64 slots until its commands time out, not half of them.
     */
    public static final int DEFAULT_BULKHEAD_PER_HOST = 4;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Pattern DESTINATION_KEY = Pattern.compile("destination\\.([^.]+)\\.(.+)");
    private static final Set<String> OWN_PREFIXES =
        Set.of("worker.", "destination.", "coalesce.", "retry.", "breaker.", "bulkhead.", "result.", "commit.",
            "status.", "signing.");
    private static final Set<String> KNOWN_KEYS = Set.of(
        "worker.id", "worker.destinations",
        "coalesce.debounce-ms", "coalesce.max-delay-ms", "coalesce.batch-max-paths", "coalesce.max-pending-paths",
        "coalesce.catch-up-lag", "coalesce.max-in-flight-per-root",
        "retry.max-attempts", "retry.initial-backoff-ms", "retry.multiplier", "retry.max-backoff-ms",
        "retry.stuck-interval-ms",
        "breaker.failure-rate-threshold", "breaker.sliding-window", "breaker.minimum-calls", "breaker.open-wait-ms",
        "breaker.max-open-wait-ms",
        "breaker.half-open-calls",
        "bulkhead.max-concurrent", "bulkhead.max-per-host",
        "result.timeout-ms", "result.full-sync-timeout-ms",
        "commit.interval-ms", "status.interval-ms",
        SigningSettings.KEY, SigningSettings.KEYRING, SigningSettings.REQUIRED);

    public WorkerConfig {
        if (workerId == null || !NAME.matcher(workerId).matches()) {
            throw new ConfigException("worker.id", "must be 1-100 characters of [A-Za-z0-9._-], got '" + workerId + "'");
        }
        destinations = List.copyOf(destinations);
        if (destinations.isEmpty()) throw new ConfigException("destination.<name>.routes", "no destination configured");
        if (bulkheadMaxConcurrent < 1) throw new ConfigException("bulkhead.max-concurrent", "must be >= 1");
        if (bulkheadMaxPerHost < 1) throw new ConfigException("bulkhead.max-per-host", "must be >= 1");
        kafka = Map.copyOf(kafka);
    }

    /** As a record prints itself, with the Kafka passwords (read from their files) masked. */
    @Override
    public String toString() {
        return "WorkerConfig[workerId=" + workerId + ", destinations=" + destinations + ", coalesce=" + coalesce
            + ", retry=" + retry + ", breaker=" + breaker + ", bulkheadMaxConcurrent=" + bulkheadMaxConcurrent
            + ", bulkheadMaxPerHost=" + bulkheadMaxPerHost
            + ", resultTimeout=" + resultTimeout + ", fullSyncResultTimeout=" + fullSyncResultTimeout
            + ", commitInterval=" + commitInterval + ", statusInterval=" + statusInterval
            + ", kafka=" + KafkaClientSettings.redacted(kafka) + ", signing=" + signing + "]";
    }

    /** Parses and validates; every error names the key and the expected form. */
    public static WorkerConfig fromProperties(Properties props) {
        Map<String, String> p = new LinkedHashMap<>();
        for (String k : new TreeSet<>(props.stringPropertyNames())) p.put(k, props.getProperty(k).trim());

        Map<String, String> kafka = new LinkedHashMap<>();
        Map<String, Map<String, String>> perDestination = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : p.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("kafka.")) {
                if (k.length() == "kafka.".length()) throw new ConfigException(k, "needs a Kafka client property after 'kafka.'");
                kafka.put(k.substring("kafka.".length()), e.getValue());
                continue;
            }
            if (OWN_PREFIXES.stream().noneMatch(k::startsWith)) continue;
            Matcher m = DESTINATION_KEY.matcher(k);
            if (m.matches()) {
                String name = m.group(1);
                String attr = m.group(2);
                Optional<String> badName = Identifier.DESTINATION.problem(name);
                if (badName.isPresent()) throw new ConfigException(k, badName.get());
                if (!attr.equals("routes") && !attr.equals("prefix")) {
                    throw new ConfigException(k, "unknown destination setting '" + attr + "' (known: routes, prefix)");
                }
                perDestination.computeIfAbsent(name, n -> new LinkedHashMap<>()).put(attr, e.getValue());
                continue;
            }
            if (!KNOWN_KEYS.contains(k)) {
                throw new ConfigException(k, "unknown setting (known: " + new TreeSet<>(KNOWN_KEYS)
                    + ", destination.<name>.routes, destination.<name>.prefix, kafka.<client property>)");
            }
        }

        String workerId = p.get("worker.id");
        if (workerId == null || workerId.isEmpty()) {
            throw new ConfigException("worker.id", "is required: a stable id for this worker, e.g. worker.id=worker-1");
        }

        List<DestinationConfig> destinations = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> d : perDestination.entrySet()) {
            destinations.add(destination(d.getKey(), d.getValue()));
        }
        String served = p.get("worker.destinations");
        if (served != null && !served.isEmpty()) {
            Set<String> wanted = new LinkedHashSet<>();
            for (String s : served.split(",")) if (!s.isBlank()) wanted.add(s.trim());
            for (String w : wanted) {
                if (!perDestination.containsKey(w)) {
                    throw new ConfigException("worker.destinations", "names '" + w + "' but there is no destination." + w
                        + ".routes");
                }
            }
            destinations.removeIf(d -> !wanted.contains(d.name()));
        }
        if (destinations.isEmpty()) {
            throw new ConfigException("destination.<name>.routes",
                "no destination configured; add e.g. destination.nas.routes=*:*");
        }

        CoalesceSettings dc = CoalesceSettings.defaults();
        CoalesceSettings coalesce = build("coalesce.*", () -> new CoalesceSettings(
            millis(p, "coalesce.debounce-ms", dc.debounce(), 0),
            millis(p, "coalesce.max-delay-ms", dc.maxDelay(), 0),
            integer(p, "coalesce.batch-max-paths", dc.batchMaxPaths(), 1),
            integer(p, "coalesce.max-pending-paths", dc.maxPendingPaths(), 1),
            longValue(p, "coalesce.catch-up-lag", dc.catchUpLag(), 0),
            integer(p, "coalesce.max-in-flight-per-root", dc.maxInFlightPerRoot(), 1)));
        RetrySettings dr = RetrySettings.defaults();
        RetrySettings retry = build("retry.*", () -> new RetrySettings(
            integer(p, "retry.max-attempts", dr.maxAttempts(), 1),
            millis(p, "retry.initial-backoff-ms", dr.initialBackoff(), 1),
            decimal(p, "retry.multiplier", dr.multiplier(), 1.0),
            millis(p, "retry.max-backoff-ms", dr.maxBackoff(), 1),
            millis(p, "retry.stuck-interval-ms", dr.stuckInterval(), 1)));
        BreakerSettings db = BreakerSettings.defaults();
        BreakerSettings breaker = build("breaker.*", () -> {
            Duration openWait = millis(p, "breaker.open-wait-ms", db.openWait(), 1);
            return new BreakerSettings(
                (float) decimal(p, "breaker.failure-rate-threshold", db.failureRateThreshold(), 0.001),
                integer(p, "breaker.sliding-window", db.slidingWindow(), 1),
                integer(p, "breaker.minimum-calls", db.minimumCalls(), 1),
                openWait,
                millis(p, "breaker.max-open-wait-ms", BreakerSettings.defaultMaxOpenWait(openWait), 1),
                integer(p, "breaker.half-open-calls", db.halfOpenCalls(), 1));
        });

        return new WorkerConfig(workerId, destinations, coalesce, retry, breaker,
            integer(p, "bulkhead.max-concurrent", DEFAULT_BULKHEAD, 1),
            integer(p, "bulkhead.max-per-host", DEFAULT_BULKHEAD_PER_HOST, 1),
            millis(p, "result.timeout-ms", Duration.ofMinutes(5), 1),
            millis(p, "result.full-sync-timeout-ms", Duration.ofHours(6), 1),
            millis(p, "commit.interval-ms", Duration.ofSeconds(1), 1),
            millis(p, "status.interval-ms", Duration.ofSeconds(5), 100),
            clientSettings(kafka),
            build("signing.*", () -> SigningSettings.from(props)));
    }

    /** The kafka.* section with its password files read (see KafkaClientSettings). */
    private static Map<String, String> clientSettings(Map<String, String> kafka) {
        try {
            return KafkaClientSettings.resolve(kafka);
        } catch (SettingException e) {
            throw new ConfigException(e.setting(), e.problem());
        }
    }

    /** A config with one destination routing everything, for embedding and tests. */
    public static WorkerConfig singleDestination(String workerId, String destination) {
        Properties p = new Properties();
        p.setProperty("worker.id", workerId);
        p.setProperty("destination." + destination + ".routes", "*:*");
        return fromProperties(p);
    }

    public DestinationConfig destination(String name) {
        for (DestinationConfig d : destinations) if (d.name().equals(name)) return d;
        throw new IllegalArgumentException("no destination '" + name + "' in this worker's config");
    }

    private static DestinationConfig destination(String name, Map<String, String> attrs) {
        String routesKey = "destination." + name + ".routes";
        String routes = attrs.get("routes");
        if (routes == null || routes.isEmpty()) {
            throw new ConfigException(routesKey, "is required: comma-separated host-glob:root-glob pairs, e.g. web-*:www,*:etc");
        }
        List<RouteRule> rules = new ArrayList<>();
        for (String item : routes.split(",")) {
            String r = item.trim();
            if (r.isEmpty()) continue;
            int colon = r.indexOf(':');
            if (colon <= 0 || colon == r.length() - 1 || r.indexOf(':', colon + 1) >= 0) {
                throw new ConfigException(routesKey, "entry '" + r + "' is not host-glob:root-glob (e.g. web-*:www)");
            }
            String host = r.substring(0, colon).trim();
            String root = r.substring(colon + 1).trim();
            for (String part : List.of(host, root)) {
                if (part.isEmpty() || part.contains("/") || part.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
                    throw new ConfigException(routesKey, "entry '" + r + "': a glob must be non-empty and contain no '/', "
                        + "spaces or control characters");
                }
            }
            rules.add(new RouteRule(new Glob(host), new Glob(root)));
        }
        if (rules.isEmpty()) throw new ConfigException(routesKey, "lists no host-glob:root-glob pair");

        String prefixKey = "destination." + name + ".prefix";
        String prefix = attrs.getOrDefault("prefix", DestinationConfig.DEFAULT_PREFIX);
        String stripped = prefix.replace("{host}", "").replace("{root}", "");
        if (stripped.contains("{") || stripped.contains("}")) {
            throw new ConfigException(prefixKey, "'" + prefix + "' has an unknown placeholder (known: {host}, {root})");
        }
        // The agents refuse a command whose prefix breaks the wire rule; ids that pass intake fill the placeholders
        // with names of the same rule, so checking the template with sample ids covers every expansion.
        Optional<String> badPrefix = RemotePrefix.problem(prefix.replace("{host}", "h").replace("{root}", "r"));
        if (badPrefix.isPresent()) {
            throw new ConfigException(prefixKey, "template '" + prefix + "': " + badPrefix.get());
        }
        if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix = prefix + "/";
        return new DestinationConfig(name, rules, prefix);
    }

    private interface Builder<T> {
        T build();
    }

    // The records validate relations between values (e.g. max delay >= debounce); report them under the group.
    private static <T> T build(String group, Builder<T> b) {
        try {
            return b.build();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(group, e.getMessage());
        }
    }

    private static long longValue(Map<String, String> p, String key, long def, long min) {
        String v = p.get(key);
        if (v == null || v.isEmpty()) return def;
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "'" + v + "' is not a whole number");
        }
        if (n < min) throw new ConfigException(key, "must be >= " + min + ", got " + n);
        return n;
    }

    private static int integer(Map<String, String> p, String key, int def, int min) {
        long n = longValue(p, key, def, min);
        if (n > Integer.MAX_VALUE) throw new ConfigException(key, "must be <= " + Integer.MAX_VALUE + ", got " + n);
        return (int) n;
    }

    private static Duration millis(Map<String, String> p, String key, Duration def, long min) {
        return Duration.ofMillis(longValue(p, key, def.toMillis(), min));
    }

    private static double decimal(Map<String, String> p, String key, double def, double min) {
        String v = p.get(key);
        if (v == null || v.isEmpty()) return def;
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "'" + v + "' is not a number");
        }
        if (!(d >= min) || Double.isInfinite(d)) throw new ConfigException(key, "must be a finite number >= " + min + ", got " + v);
        return d;
    }
}
