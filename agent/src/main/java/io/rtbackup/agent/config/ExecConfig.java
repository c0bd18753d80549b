package io.rtbackup.agent.config;

import io.rtbackup.schema.Identifier;
import io.rtbackup.schema.RemotePrefix;
import io.rtbackup.secure.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the agent executes {@code SyncCommand}s: where each named destination is and how rsync talks to it, read
 * from {@link Properties}:
 *
 * <pre>
 * rsync.path=rsync                                   # binary name (looked up on PATH) or absolute path
 * rsync.allow-unpatched=false                        # run an rsync without the January 2025 fixes (RsyncVersion)
 * exec.command-max-age-s=900                         # older commands are answered FAILED without running rsync
 * exec.versions-prune-interval-s=3600                # how often kept versions are pruned (first: within a minute)
 * destination.dc2.url=rsync://backup@dc2:873/rtb/fleet   # rsync://[user@]host[:port]/module[/prefix]
 * destination.dc2.password-file=/etc/rtb/dc2.secret   # mode 600, or env RSYNC_PASSWORD_DC2; never on a command line
 * destination.dc2.max-concurrent=2                   # rsync processes at once for this destination
 * destination.dc2.timeout-s=60                       # rsync --timeout: I/O inactivity limit (also a run moving no data)
 * destination.dc2.command-timeout-s=1800             # wall-clock limit of one command; rsync is killed after it
 * destination.dc2.acls=false                         # -A (the daemon must allow it)
 * destination.dc2.xattrs=false                       # -X (the daemon must allow it)
 * destination.local.url=/srv/replica                 # single-host mode: a local absolute directory
 * destination.dc3.url=ssh://rtb@dc3:22/              # ssh://[user@]host[:port]/path: rsync over OpenSSH
 * destination.dc3.ssh-key=/etc/rtb/dc3.key           # the destination's private key (mode 600)
 * destination.dc3.known-hosts=/etc/rtb/dc3.known_hosts   # the pinned host key; nothing else is accepted
 * destination.dc2.keep-versions=false                # keep what each sync overwrites or deletes (rtb restore)
 * destination.dc2.versions-keep-days=30              # prune kept versions older than this (0: no age limit)
 * destination.dc2.versions-keep=0                    # keep at most the newest N version dirs (0: no count limit)
 * destination.dc2.exclude-delete=false               # delete replica entries the root's excludes match (full syncs)
 * destination.dc2.bwlimit=5m                         # rsync --bwlimit (KiB/s, or k/m/g suffix); see TransferTuning
 * destination.dc2.compress=none                      # none|auto|zstd|lz4|zlib (not for a local directory)
 * destination.dc2.nice=0                             # 0-19: rsync runs under nice -n N
 * destination.dc2.ionice=none                        # none|idle|best-effort[:0-7]: rsync runs under ionice
 * </pre>
 *
 * <p>Kept versions: with {@code keep-versions=true} every rsync run to the destination passes {@code --backup
 * --backup-dir}, so what the run overwrites or deletes moves to {@code <prefix>/.rtb-versions/<host>/<root>/<UTC
 * time of the run>-<command id>/} instead of vanishing. That directory is outside the mirrored tree
 * {@code <prefix>/<host>/<root>/}: full syncs with {@code --delete} never reach it. The agent prunes it hourly
 * (and after start) by both limits; {@code rtb prune} does the same on demand and {@code rtb restore} reads it.
 * It is off by default for an agent config because it costs destination disk for every overwrite and the
 * operator should choose the retention; {@code rtb up} turns it on (30 days).
 *
 * <p>Every problem is reported as a {@link ConfigException} naming the key and what to do.
 *
 * <p>What a destination daemon's module needs (rsync &gt;= 3.2.3 on both ends, for {@code --mkpath}):
 * <pre>
 * [rtb]
 *     path = /srv/rtb
 *     read only = no
 *     use chroot = yes      # required for exact symlinks: without chroot rsync munges every stored symlink
 *                           # target (/rsyncd-munged/...) or, with "munge symlinks = no", strips a leading "/"
 *                           # and escaping ".." - either way the replica's links differ from the source's
 *     uid = 0               # (or "fake super = yes") so owners, groups and device files can be stored
 *     gid = 0
 *     numeric ids = yes     # the agent sends --numeric-ids
 *     auth users = backup
 *     secrets file = /etc/rsyncd.secrets
 * </pre>
 * ACLs and xattrs ({@code acls}/{@code xattrs} here) need a module and file system that store them. An ssh
 * destination needs no daemon: docs/destinations-ssh.md sets up its account, one key per host confined with
 * {@code rrsync}, and the host key pin.
 */
public record ExecConfig(String rsyncPath, Map<String, Destination> destinations, Duration commandMaxAge,
        Duration versionsPruneInterval, boolean allowUnpatchedRsync) {

    public static final String RSYNC_PATH = "rsync.path";
    /** Operator's word that the local rsync carries the January 2025 fixes though it cannot be shown. */
    public static final String RSYNC_ALLOW_UNPATCHED = "rsync.allow-unpatched";
    public static final String COMMAND_MAX_AGE_S = "exec.command-max-age-s";
    /** How often the agent prunes kept versions (the first run is a minute after start, or sooner). */
    public static final String VERSIONS_PRUNE_INTERVAL_S = "exec.versions-prune-interval-s";
    public static final String DESTINATION_PREFIX = "destination.";
    /** Per-destination password variable: {@code RSYNC_PASSWORD_} + the name upper-cased, non-alphanumerics as _. */
    public static final String PASSWORD_ENV_PREFIX = "RSYNC_PASSWORD_";

    static final int DEFAULT_MAX_CONCURRENT = 2;
    static final int DEFAULT_IO_TIMEOUT_S = 60;
    static final int DEFAULT_COMMAND_TIMEOUT_S = 1800;
    static final int DEFAULT_COMMAND_MAX_AGE_S = 900;
    static final int DEFAULT_VERSIONS_PRUNE_INTERVAL_S = 3600;

    private static final Pattern DEST_KEY = Pattern.compile("destination\\.([^.]+)\\.([a-z-]+)");
    private static final Set<String> DEST_FIELDS = Set.of("url", "password-file", "max-concurrent", "timeout-s",
        "command-timeout-s", "acls", "xattrs", "keep-versions", "versions-keep-days", "versions-keep", "allowed-prefix",
        DestinationUrl.SSH_KEY, DestinationUrl.KNOWN_HOSTS, "exclude-delete",
        TransferTuning.BWLIMIT, TransferTuning.COMPRESS, TransferTuning.NICE, TransferTuning.IONICE);
    /** Where commands may point this host's runs by default: its own tree, whatever the workers ask. */
    public static final String DEFAULT_ALLOWED_PREFIX = "{host}/";
    static final int DEFAULT_VERSIONS_KEEP_DAYS = 30;

    public ExecConfig {
        destinations = Map.copyOf(destinations);
    }

    /**
     * Whether {@code component} may be one directory name of a remote path (module prefix, host or root id): the
     * wire rule {@link Identifier#REMOTE_NAME}, plain ASCII names only, because remote paths travel as process
     * arguments.
     */
    public static boolean isSafeRemoteComponent(String component) {
        return Identifier.REMOTE_NAME.isValid(component);
    }

    /**
     * One named destination. {@code excludeDelete}: full syncs delete what the replica holds that the root's
     * excludes match ({@code --delete-excluded}); by default it is left alone. {@code tuning}: bandwidth,
     * compression and priorities of its rsync runs.
     */
    public record Destination(
            String name,
            Target target,
            Optional<Password> password,
            int maxConcurrent,
            Duration ioTimeout,
            Duration commandTimeout,
            boolean acls,
            boolean xattrs,
            Versions versions,
            String allowedPrefix,
            boolean excludeDelete,
            TransferTuning tuning) {

        /**
         * The remote directory that every command's directory must lie in for this host: {@code allowedPrefix}
         * with {@code {host}} filled in, without the trailing slash; empty means the whole destination.
         */
        public String allowedDirectory(String hostId) {
            String dir = allowedPrefix.replace("{host}", hostId);
            while (dir.endsWith("/")) dir = dir.substring(0, dir.length() - 1);
            return dir;
        }
    }

    /**
     * Kept versions of a destination: whether syncs keep what they overwrite or delete, and how long. A version
     * dir is pruned when it is older than {@code keepDays} (0: no age limit) or not among the newest
     * {@code keepCount} (0: no count limit).
     */
    public record Versions(boolean keep, int keepDays, int keepCount) {
        public static final Versions OFF = new Versions(false, DEFAULT_VERSIONS_KEEP_DAYS, 0);

        public Versions {
            if (keepDays < 0 || keepCount < 0) throw new IllegalArgumentException("negative retention");
        }

        public Optional<Duration> maxAge() {
            return keepDays == 0 ? Optional.empty() : Optional.of(Duration.ofDays(keepDays));
        }
    }

    /** Where a destination is. */
    public sealed interface Target permits DaemonTarget, SshTarget, LocalTarget {
        /** The rsync destination argument for a path under the destination, ending with "/". */
        String argument(String relativeDir);
    }

    /** An rsync daemon module, optionally with a fixed prefix inside the module. */
    public record DaemonTarget(Optional<String> user, String host, int port, String module, String prefix)
            implements Target {
        @Override
        public String argument(String relativeDir) {
            StringBuilder sb = new StringBuilder("rsync://");
            user.ifPresent(u -> sb.append(u).append('@'));
            sb.append(host).append(':').append(port).append('/').append(module).append('/');
            if (!prefix.isEmpty()) sb.append(prefix).append('/');
            if (!relativeDir.isEmpty()) sb.append(relativeDir).append('/');
            return sb.toString();
        }

        @Override
        public String toString() {
            return argument("");
        }
    }

    /**
     * A directory on a host reached with OpenSSH ({@code ssh://[user@]host[:port]/path}): rsync runs there as the
     * server, started by {@code ssh} with the destination's private {@code key} and only the host key pinned in
     * {@code knownHosts} accepted ({@link DestinationUrl} checks both files). {@code path} is absolute and every
     * component of it a safe remote name; behind {@code rrsync DIR} it is read inside DIR.
     */
    public record SshTarget(Optional<String> user, String host, int port, String path, Path key, Path knownHosts)
            implements Target {
        @Override
        public String argument(String relativeDir) {
            StringBuilder sb = new StringBuilder();
            user.ifPresent(u -> sb.append(u).append('@'));
            sb.append(host).append(':').append(path);
            if (!path.endsWith("/")) sb.append('/');
            if (!relativeDir.isEmpty()) sb.append(relativeDir).append('/');
            return sb.toString();
        }

        @Override
        public String toString() {
            return "ssh://" + user.map(u -> u + "@").orElse("") + host + ":" + port + path;
        }
    }

    /** A local directory (single-host mode). */
    public record LocalTarget(String directory) implements Target {
        @Override
        public String argument(String relativeDir) {
            String base = directory.endsWith("/") ? directory : directory + "/";
            return relativeDir.isEmpty() ? base : base + relativeDir + "/";
        }
    }

    /** Where the daemon password comes from; {@link #toString()} never shows the secret. */
    public sealed interface Password permits PasswordFile, PasswordEnv {
        /** The secret, read now (a password file may be rotated while the agent runs). */
        String secret() throws IOException;
    }

    /**
     * rsync's password-file format: the first line is the password. The file must be readable by its owner only
     * ({@link OwnerOnly}), checked again at every read as the file may change while the agent runs.
     */
    public record PasswordFile(Path file) implements Password {
        @Override
        public String secret() throws IOException {
            Optional<String> problem = OwnerOnly.secretFileProblem(file);
            if (problem.isPresent()) throw new IOException(file + ": " + problem.get());
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            String first = nl < 0 ? text : text.substring(0, nl);
            return first.endsWith("\r") ? first.substring(0, first.length() - 1) : first;
        }
    }

    public record PasswordEnv(String variable, String value) implements Password {
        @Override
        public String secret() {
            return value;
        }

        @Override
        public String toString() {
            return "PasswordEnv[" + variable + "]";
        }
    }

    /** Reads the configuration; {@code env} is the process environment (System.getenv() in production). */
    public static ExecConfig from(Properties props, Map<String, String> env) {
        String rsync = props.getProperty(RSYNC_PATH, "rsync").trim();
        checkRsync(rsync);
        Duration maxAge = Duration.ofSeconds(positiveInt(props, COMMAND_MAX_AGE_S, DEFAULT_COMMAND_MAX_AGE_S));
        Duration pruneEvery = Duration.ofSeconds(positiveInt(props, VERSIONS_PRUNE_INTERVAL_S,
            DEFAULT_VERSIONS_PRUNE_INTERVAL_S));

        Map<String, Map<String, String>> byName = new TreeMap<>();
        for (String key : props.stringPropertyNames()) {
            if (!key.startsWith(DESTINATION_PREFIX)) continue;
            Matcher m = DEST_KEY.matcher(key);
            if (!m.matches()) {
                throw new ConfigException(key, "expected destination.<name>.<setting> with a setting of "
                    + new TreeSet<>(DEST_FIELDS));
            }
            String name = m.group(1);
            String field = m.group(2);
            Optional<String> badName = Identifier.DESTINATION.problem(name);
            if (badName.isPresent()) throw new ConfigException(key, badName.get());
            if (!DEST_FIELDS.contains(field)) {
                throw new ConfigException(key, "unknown setting '" + field + "'; use one of " + new TreeSet<>(DEST_FIELDS));
            }
            byName.computeIfAbsent(name, n -> new LinkedHashMap<>()).put(field, props.getProperty(key).trim());
        }
        Map<String, Destination> destinations = new LinkedHashMap<>();
        for (var e : byName.entrySet()) {
            destinations.put(e.getKey(), destination(e.getKey(), e.getValue(), env));
        }
        return new ExecConfig(rsync, destinations, maxAge, pruneEvery, bool(Map.of("", props.getProperty(RSYNC_ALLOW_UNPATCHED, "").trim()), RSYNC_ALLOW_UNPATCHED, ""));
    }

    /** The environment variable that may hold the password of destination {@code name}. */
    public static String passwordVariable(String name) {
        return PASSWORD_ENV_PREFIX + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private static Destination destination(String name, Map<String, String> f, Map<String, String> env) {
        String p = DESTINATION_PREFIX + name + ".";
        String url = f.get("url");
        if (url == null || url.isEmpty()) {
            throw new ConfigException(p + "url", "missing; set it to ssh://[user@]host[:port]/path, "
                + "rsync://[user@]host[:port]/module[/prefix] or an absolute local directory");
        }
        Target target = DestinationUrl.target(p, url, f);

        Optional<Password> password = Optional.empty();
        String file = f.get("password-file");
        String variable = passwordVariable(name);
        if (file != null && !file.isEmpty()) {
            Path path = Path.of(file);
            if (!path.isAbsolute()) {
                throw new ConfigException(p + "password-file", "'" + file + "' must be an absolute path");
            }
            if (!Files.isReadable(path)) {
                throw new ConfigException(p + "password-file", "cannot read '" + file + "'; create it (first line = "
                    + "the password, mode 600) or set the environment variable " + variable + " instead");
            }
            Optional<String> open = OwnerOnly.secretFileProblem(path);
            if (open.isPresent()) throw new ConfigException(p + "password-file", "'" + file + "': " + open.get());
            password = Optional.of(new PasswordFile(path));
        } else if (env.get(variable) != null && !env.get(variable).isEmpty()) {
            password = Optional.of(new PasswordEnv(variable, env.get(variable)));
        }
        if (password.isPresent() && !(target instanceof DaemonTarget)) {
            throw new ConfigException(p + "password-file", "destination '" + name + "' is "
                + (target instanceof SshTarget ? "reached over ssh, which authenticates with " + p + DestinationUrl.SSH_KEY
                    : "a local directory, which") + " takes no password; remove the password-file setting / " + variable);
        }

        int maxConcurrent = positiveInt(f, p, "max-concurrent", DEFAULT_MAX_CONCURRENT);
        int ioTimeout = positiveInt(f, p, "timeout-s", DEFAULT_IO_TIMEOUT_S);
        int commandTimeout = positiveInt(f, p, "command-timeout-s", DEFAULT_COMMAND_TIMEOUT_S);
        return new Destination(name, target, password, maxConcurrent, Duration.ofSeconds(ioTimeout),
            Duration.ofSeconds(commandTimeout), bool(f, p, "acls"), bool(f, p, "xattrs"), versions(f, p),
            allowedPrefix(f, p), bool(f, p, "exclude-delete"), TransferTuning.from(p, f, target));
    }

    /**
     * {@code allowed-prefix}: a template with {@code {host}} (default {@value #DEFAULT_ALLOWED_PREFIX}); a command
     * whose remote directory lies outside it is refused, so a forged or misrouted command cannot point a
     * {@code --delete} run at another host's replica. The empty value allows the whole destination, for a
     * destination only this host writes to.
     */
    private static String allowedPrefix(Map<String, String> f, String p) {
        String v = f.getOrDefault("allowed-prefix", DEFAULT_ALLOWED_PREFIX);
        if (v.isEmpty()) return v;
        String stripped = v.replace("{host}", "");
        if (stripped.indexOf('{') >= 0 || stripped.indexOf('}') >= 0) {
            throw new ConfigException(p + "allowed-prefix", "'" + v + "' has an unknown placeholder (known: {host})");
        }
        Optional<String> bad = RemotePrefix.problem(v.replace("{host}", "h"));
        if (bad.isPresent()) throw new ConfigException(p + "allowed-prefix", "'" + v + "': " + bad.get());
        return v;
    }

    private static Versions versions(Map<String, String> f, String p) {
        boolean keep = bool(f, p, "keep-versions");
        int days = nonNegativeInt(f, p, "versions-keep-days", DEFAULT_VERSIONS_KEEP_DAYS);
        int count = nonNegativeInt(f, p, "versions-keep", 0);
        if (!keep) {
            for (String field : new String[] {"versions-keep-days", "versions-keep"}) {
                String v = f.get(field);
                if (v != null && !v.isEmpty()) {
                    throw new ConfigException(p + field, "is set but " + p + "keep-versions is off; set " + p
                        + "keep-versions=true to keep versions, or remove " + p + field);
                }
            }
        }
        return new Versions(keep, days, count);
    }

    private static int nonNegativeInt(Map<String, String> f, String p, String field, int dflt) {
        String v = f.get(field);
        if (v == null || v.isEmpty()) return dflt;
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(p + field, "'" + v + "' is not a whole number >= 0 (0: no limit)");
    }

    private static void checkRsync(String rsync) {
        if (rsync.isEmpty()) throw new ConfigException(RSYNC_PATH, "must not be empty; default is 'rsync'");
        if (rsync.contains("/")) {
            Path p = Path.of(rsync);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new ConfigException(RSYNC_PATH, "'" + rsync + "' is not an executable file; install rsync "
                    + ">= 3.2.3 or point this at it");
            }
            return;
        }
        if (TransferTuning.onPath(rsync)) return;
        throw new ConfigException(RSYNC_PATH, "'" + rsync + "' is not on PATH; install rsync >= 3.2.3 "
            + "(apt-get install rsync) or set " + RSYNC_PATH + " to its absolute path");
    }

    private static int positiveInt(Properties props, String key, int dflt) {
        String v = props.getProperty(key);
        return v == null ? dflt : parsePositive(key, v.trim());
    }

    private static int positiveInt(Map<String, String> f, String p, String field, int dflt) {
        String v = f.get(field);
        return v == null || v.isEmpty() ? dflt : parsePositive(p + field, v);
    }

    private static int parsePositive(String key, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(key, "'" + v + "' is not a positive whole number");
    }

    private static boolean bool(Map<String, String> f, String p, String field) {
        String v = f.get(field);
        if (v == null || v.isEmpty()) return false;
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(p + field, "'" + v + "' is not true or false");
        };
    }
}
