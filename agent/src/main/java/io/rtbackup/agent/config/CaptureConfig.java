package io.rtbackup.agent.config;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.kafka.SettingException;
import io.rtbackup.fs.Stat;
import io.rtbackup.schema.Identifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the agent captures and how it publishes it, read from {@link Properties}:
 *
 * <pre>
 * host.id=web-01                       # default: this host's name
 * root.home.path=/srv/home              # one or more roots, id = the part between "root." and ".path"
 * root.home.exclude=*.tmp,/cache/**     # comma-separated globs: a name at any depth; from the root with /
 * capture.source=auto                   # auto | kmod | fanotify | inotify | scan
 * capture.merge-window-ms=50            # modify bursts on one path become one event per window
 * capture.startup-rescan=true           # publish one RESCAN per root at start (changes while the agent was down)
 * capture.scan-interval-ms=2000         # the scan source's polling period
 * publish.buffer-events=100000          # bounded buffer between capture and Kafka (distinct events; duplicates merge)
 * kafka.bootstrap.servers=...           # every kafka.* key is passed to the producer (TLS/SASL settings too)
 * </pre>
 *
 * Every problem is reported as a {@link ConfigException} naming the key.
 */
public record CaptureConfig(
        String hostId,
        List<RootConfig> roots,
        SourceChoice source,
        Duration mergeWindow,
        boolean startupRescan,
        Duration scanInterval,
        int publishBufferEvents,
        Map<String, String> kafka) {

    /** Which capture source to run. */
    public enum SourceChoice {
        AUTO, KMOD, FANOTIFY, INOTIFY, SCAN;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One configured root: id, absolute directory, exclude globs relative to it. */
    public record RootConfig(String id, String path, List<String> excludes) {
        public RootConfig {
            excludes = List.copyOf(excludes);
        }
    }

    public static final String HOST_ID = "host.id";
    public static final String CAPTURE_SOURCE = "capture.source";
    public static final String MERGE_WINDOW_MS = "capture.merge-window-ms";
    public static final String STARTUP_RESCAN = "capture.startup-rescan";
    public static final String SCAN_INTERVAL_MS = "capture.scan-interval-ms";
    public static final String BUFFER_EVENTS = "publish.buffer-events";
    public static final String KAFKA_PREFIX = "kafka.";

    private static final Pattern ROOT_KEY = Pattern.compile("root\\.([^.]+)\\.(path|exclude)");

    public CaptureConfig {
        roots = List.copyOf(roots);
        kafka = Map.copyOf(kafka);
    }

    /**
     * Parses and validates, including the checks against this host's file system (roots readable). Whether the
     * chosen capture source can run here is capture's question, asked by the agent ({@code AgentConfig}).
     */
    public static CaptureConfig fromProperties(Properties props) {
        CaptureConfig config = parse(props);
        config.checkHost();
        return config;
    }

    /** Parses and validates the values only, without looking at the file system. */
    public static CaptureConfig parse(Properties props) {
        String hostId = trimmed(props, HOST_ID).orElseGet(CaptureConfig::hostName);
        // The host id travels in every event and names this host's tree on the destinations: workers refuse an id
        // outside the wire rule, so an agent with one must not start.
        Identifier.HOST_ID.problem(hostId).ifPresent(problem -> {
            throw new ConfigException(HOST_ID, problem + " (the default is this host's name; set " + HOST_ID
                + " to such a name)");
        });

        Map<String, String> paths = new TreeMap<>();
        Map<String, String> excludes = new TreeMap<>();
        Map<String, String> kafka = new LinkedHashMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith(KAFKA_PREFIX)) {
                kafka.put(key.substring(KAFKA_PREFIX.length()), props.getProperty(key).trim());
                continue;
            }
            if (!key.startsWith("root.")) continue;
            Matcher m = ROOT_KEY.matcher(key);
            if (!m.matches()) {
                throw new ConfigException(key, "unknown root setting; use root.<id>.path or root.<id>.exclude");
            }
            String id = m.group(1);
            Identifier.ROOT_ID.problem(id).ifPresent(problem -> {
                throw new ConfigException(key, problem);
            });
            (m.group(2).equals("path") ? paths : excludes).put(id, props.getProperty(key));
        }
        for (String id : excludes.keySet()) {
            if (!paths.containsKey(id)) {
                throw new ConfigException("root." + id + ".path",
                        "missing: root." + id + ".exclude is set but the root has no path");
            }
        }
        if (paths.isEmpty()) {
            throw new ConfigException("root.<id>.path", "no root configured; add e.g. root.home.path=/srv/home");
        }

        List<RootConfig> roots = new ArrayList<>();
        for (Map.Entry<String, String> e : paths.entrySet()) {
            String key = "root." + e.getKey() + ".path";
            String path = normalisePath(key, e.getValue());
            List<String> globs = new ArrayList<>();
            String ex = excludes.get(e.getKey());
            if (ex != null) {
                for (String g : ex.split(",")) {
                    String glob = g.trim();
                    if (glob.isEmpty()) continue;
                    // A leading '/' stays: it anchors the glob at the root (ExcludeMatcher, RsyncExcludes).
                    if (glob.replace("/", "").isEmpty()) {
                        throw new ConfigException("root." + e.getKey() + ".exclude",
                                "'/' would exclude the whole root; remove the root instead");
                    }
                    globs.add(glob);
                }
            }
            roots.add(new RootConfig(e.getKey(), path, globs));
        }
        for (int i = 0; i < roots.size(); i++) {
            for (int j = 0; j < roots.size(); j++) {
                if (i == j) continue;
                RootConfig a = roots.get(i);
                RootConfig b = roots.get(j);
                if (contains(a.path(), b.path())) {
                    throw new ConfigException("root." + b.id() + ".path", "overlaps root." + a.id() + ".path ("
                            + b.path() + " lies within " + a.path() + "); roots must not nest, use one root with"
                            + " excludes instead");
                }
            }
        }

        SourceChoice source;
        String sourceValue = trimmed(props, CAPTURE_SOURCE).orElse("auto");
        try {
            source = SourceChoice.valueOf(sourceValue.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(CAPTURE_SOURCE, "'" + sourceValue
                    + "' is not one of auto, kmod, fanotify, inotify, scan");
        }
        long mergeMs = longValue(props, MERGE_WINDOW_MS, 50, 0, 60_000);
        long scanMs = longValue(props, SCAN_INTERVAL_MS, 2_000, 10, 3_600_000);
        long buffer = longValue(props, BUFFER_EVENTS, 100_000, 16, 50_000_000);
        String rescan = trimmed(props, STARTUP_RESCAN).orElse("true");
        if (!rescan.equals("true") && !rescan.equals("false")) {
            throw new ConfigException(STARTUP_RESCAN, "'" + rescan + "' must be true or false");
        }
        return new CaptureConfig(hostId, roots, source, Duration.ofMillis(mergeMs), Boolean.parseBoolean(rescan),
                Duration.ofMillis(scanMs), (int) buffer, clientSettings(kafka));
    }

    /** The kafka.* section with its password files read (see KafkaClientSettings). */
    private static Map<String, String> clientSettings(Map<String, String> kafka) {
        try {
            return KafkaClientSettings.resolve(kafka);
        } catch (SettingException e) {
            throw new ConfigException(e.setting(), e.problem());
        }
    }

    /** Checks each root is a readable directory. */
    public void checkHost() {
        for (RootConfig root : roots) {
            String key = "root." + root.id() + ".path";
            byte[] path = root.path().getBytes(StandardCharsets.UTF_8);
            Optional<Stat> stat;
            try {
                stat = ByteFs.lstat(path);
            } catch (IOException e) {
                throw new ConfigException(key, "cannot stat " + root.path() + ": " + e.getMessage());
            }
            if (stat.isEmpty()) {
                throw new ConfigException(key, root.path() + " does not exist; create it or fix the path");
            }
            if (!stat.get().isDir()) {
                throw new ConfigException(key, root.path() + " is not a directory (a symlink to one is not"
                        + " accepted either: give the real path)");
            }
            try {
                ByteFs.list(path);
            } catch (IOException e) {
                throw new ConfigException(key, root.path() + " is not readable by this agent: " + e.getMessage()
                        + "; run the agent as root or grant read and search permission");
            }
        }
    }

    private static boolean contains(String outer, String inner) {
        if (outer.equals("/")) return true;
        return inner.equals(outer) || inner.startsWith(outer + "/");
    }

    private static String normalisePath(String key, String raw) {
        String p = raw.trim();
        if (p.isEmpty()) throw new ConfigException(key, "empty; give an absolute directory");
        if (!p.startsWith("/")) throw new ConfigException(key, "'" + p + "' is not an absolute path");
        if (p.indexOf('\0') >= 0) throw new ConfigException(key, "contains a NUL character");
        List<String> parts = new ArrayList<>();
        for (String part : p.split("/")) {
            if (part.isEmpty()) continue;
            if (part.equals(".") || part.equals("..")) {
                throw new ConfigException(key, "'" + p + "' contains '.' or '..'; give the canonical path");
            }
            parts.add(part);
        }
        return "/" + String.join("/", parts);
    }

    private static Optional<String> trimmed(Properties props, String key) {
        String v = props.getProperty(key);
        return v == null || v.trim().isEmpty() ? Optional.empty() : Optional.of(v.trim());
    }

    private static long longValue(Properties props, String key, long dflt, long min, long max) {
        Optional<String> v = trimmed(props, key);
        if (v.isEmpty()) return dflt;
        long value;
        try {
            value = Long.parseLong(v.get());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "'" + v.get() + "' is not a number");
        }
        if (value < min || value > max) {
            throw new ConfigException(key, value + " is out of range [" + min + ", " + max + "]");
        }
        return value;
    }

    private static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!h.isEmpty()) return h;
        } catch (IOException e) {
            // fall through to the environment
        }
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) return env.trim();
        throw new ConfigException(HOST_ID, "cannot determine this host's name; set host.id");
    }

    @Override
    public String toString() {
        return "CaptureConfig[host=" + hostId + ", roots=" + roots + ", source=" + source.key() + ", merge="
                + mergeWindow.toMillis() + "ms, buffer=" + publishBufferEvents + ", kafka=" + redacted() + "]";
    }

    private Map<String, String> redacted() {
        return KafkaClientSettings.redacted(kafka);
    }
}
