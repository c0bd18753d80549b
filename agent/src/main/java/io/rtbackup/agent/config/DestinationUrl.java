package io.rtbackup.agent.config;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.SshTarget;
import io.rtbackup.agent.config.ExecConfig.Target;
import io.rtbackup.schema.Identifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a destination's {@code url} (and, for ssh, its {@code ssh-key} and {@code known-hosts} settings) into a
 * {@link Target}; every problem is a {@link ConfigException} naming the key and what to do:
 * <ul>
 *   <li>{@code ssh://[user@]host[:port]/path}: rsync over OpenSSH. Needs {@value #SSH_KEY} (an absolute path
 *   to a private key nobody but its owner can read) and {@value #KNOWN_HOSTS} (an absolute path to a readable
 *   known_hosts file holding the pinned host key). The path's components are safe remote names.</li>
 *   <li>{@code rsync://[user@]host[:port]/module[/prefix]}: an rsync daemon.</li>
 *   <li>an absolute ASCII directory without {@code ..}: a local replica.</li>
 * </ul>
 * The ssh settings are refused on other targets. Key and known_hosts paths must be of {@value #SAFE_FILE_CHARS}:
 * they go into the one string rsync's {@code --rsh} takes and splits itself, and ssh expands {@code %} and
 * {@code ~} in them; such names need neither quoting nor escaping anywhere.
 */
public final class DestinationUrl {
    /** The destination's private key for ssh. */
    public static final String SSH_KEY = "ssh-key";
    /** The known_hosts file holding the destination's pinned host key. */
    public static final String KNOWN_HOSTS = "known-hosts";
    /** What a key or known_hosts path may consist of (besides '/'). */
    public static final String SAFE_FILE_CHARS = "[A-Za-z0-9._+=@,-]";

    private static final String HOST = "(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9][A-Za-z0-9.-]*)";
    private static final String USER = "(?:([A-Za-z0-9_][A-Za-z0-9._-]*)@)?";
    // rsync://[user@]host[:port]/module[/prefix]; host may be a bracketed IPv6 literal.
    private static final Pattern DAEMON_URL =
        Pattern.compile("rsync://(?:([^@/:\\s]+)@)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(?::(\\d{1,5}))?/([^/\\s]+)(/.*)?");
    // ssh://[user@]host[:port]/path; neither user nor host may start with '-' (ssh would read an option).
    private static final Pattern SSH_URL = Pattern.compile("ssh://" + USER + HOST + "(?::(\\d{1,5}))?(/.*)");
    private static final Pattern SAFE_FILE = Pattern.compile("/(" + SAFE_FILE_CHARS + "+/)*" + SAFE_FILE_CHARS + "+");

    private DestinationUrl() {
    }

    /**
     * The target of {@code url}.
     *
     * @param p      the destination's key prefix, {@code destination.<name>.}
     * @param fields the destination's settings (for the ssh files)
     */
    static Target target(String p, String url, Map<String, String> fields) {
        String key = p + "url";
        Target t;
        if (url.startsWith("ssh://")) {
            t = ssh(p, url, fields);
        } else if (url.startsWith("rsync://")) {
            t = daemon(key, url);
        } else {
            t = local(key, url);
        }
        if (!(t instanceof SshTarget)) {
            for (String f : new String[] {SSH_KEY, KNOWN_HOSTS}) {
                if (fields.get(f) != null && !fields.get(f).isEmpty()) {
                    throw new ConfigException(p + f, "only an ssh:// destination takes it; remove it or change " + key);
                }
            }
        }
        return t;
    }

    private static SshTarget ssh(String p, String url, Map<String, String> fields) {
        String key = p + "url";
        Matcher m = SSH_URL.matcher(url);
        if (!m.matches()) {
            throw new ConfigException(key, "'" + url + "' is not ssh://[user@]host[:port]/path (user and host of "
                + "letters, digits, '.', '-', not starting with '-')");
        }
        int port = port(key, m.group(3), 22);
        String path = "/" + trimSlashes(m.group(4));
        if (!path.equals("/")) {
            for (String c : path.substring(1).split("/", -1)) {
                Optional<String> bad = Identifier.REMOTE_NAME.problem(c);
                if (bad.isPresent()) {
                    throw new ConfigException(key, "path '" + path + "' of '" + url + "': " + bad.get()
                        + ", separated by single '/'");
                }
            }
        }
        checkSshClient(key);
        Path sshKey = file(p + SSH_KEY, fields.get(SSH_KEY), "the private key this host logs in with (ssh-keygen "
            + "-t ed25519 -N '' -f FILE; its .pub line goes to the destination's authorized_keys)");
        checkPrivate(p + SSH_KEY, sshKey);
        Path knownHosts = file(p + KNOWN_HOSTS, fields.get(KNOWN_HOSTS), "the known_hosts file with the "
            + "destination's host key (ssh-keyscan -p PORT HOST > FILE, then compare the fingerprint out of band)");
        return new SshTarget(Optional.ofNullable(m.group(1)), m.group(2), port, path, sshKey, knownHosts);
    }

    /** rsync runs {@code ssh} from PATH; without it every run would fail. */
    private static void checkSshClient(String key) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "ssh"))) return;
            }
        }
        throw new ConfigException(key, "an ssh destination needs OpenSSH's client 'ssh' on PATH; install it "
            + "(apt-get install openssh-client)");
    }

    /** A required, absolute, readable file with a name of safe characters. */
    private static Path file(String key, String value, String what) {
        if (value == null || value.isEmpty()) throw new ConfigException(key, "missing; set it to " + what);
        if (!SAFE_FILE.matcher(value).matches()) {
            throw new ConfigException(key, "'" + value + "' must be an absolute path of " + SAFE_FILE_CHARS + " names "
                + "(it goes into the ssh command rsync runs); move or link the file to such a path");
        }
        Path path = Path.of(value);
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new ConfigException(key, "cannot read '" + value + "'; create it: " + what);
        }
        return path;
    }

    /** ssh refuses a private key that others can read; say so now, naming the file. */
    private static void checkPrivate(String key, Path file) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return; // no POSIX modes to check here; ssh checks what it can
        } catch (IOException e) {
            throw new ConfigException(key, "cannot read the mode of '" + file + "': " + e.getMessage());
        }
        for (PosixFilePermission bad : Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE)) {
            if (perms.contains(bad)) {
                throw new ConfigException(key, "'" + file + "' can be read or written by others than its owner, and "
                    + "ssh refuses such a key; run chmod 600 " + file);
            }
        }
    }

    private static DaemonTarget daemon(String key, String url) {
        Matcher m = DAEMON_URL.matcher(url);
        if (!m.matches()) {
            throw new ConfigException(key, "'" + url + "' is not rsync://[user@]host[:port]/module[/prefix]");
        }
        int port = port(key, m.group(3), 873);
        String prefix = m.group(5) == null ? "" : trimSlashes(m.group(5));
        for (String c : prefix.isEmpty() ? new String[0] : prefix.split("/", -1)) {
            Optional<String> bad = Identifier.REMOTE_NAME.problem(c);
            if (bad.isPresent()) {
                throw new ConfigException(key, "prefix '" + prefix + "' of '" + url + "': " + bad.get()
                    + ", separated by single '/'");
            }
        }
        Optional<String> badModule = Identifier.REMOTE_NAME.problem(m.group(4));
        if (badModule.isPresent()) throw new ConfigException(key, "module of '" + url + "': " + badModule.get());
        return new DaemonTarget(Optional.ofNullable(m.group(1)), m.group(2), port, m.group(4), prefix);
    }

    private static LocalTarget local(String key, String url) {
        if (url.contains("://")) {
            throw new ConfigException(key, "'" + url + "': only ssh://, rsync:// and local directories are supported");
        }
        if (!url.startsWith("/")) {
            throw new ConfigException(key, "'" + url + "' must be an absolute directory or an ssh://... or "
                + "rsync://... URL");
        }
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(url) || url.indexOf('\0') >= 0) {
            // Process arguments are encoded with the POSIX locale, which would mangle other characters.
            throw new ConfigException(key, "'" + url + "' must be ASCII; use a directory (or symlink) with an ASCII name");
        }
        for (String c : url.split("/")) {
            if (c.equals("..")) throw new ConfigException(key, "'" + url + "' must not contain '..'");
        }
        return new LocalTarget(url.length() > 1 ? trimTrailing(url) : url);
    }

    private static int port(String key, String digits, int dflt) {
        if (digits == null) return dflt;
        int port = Integer.parseInt(digits);
        if (port < 1 || port > 65535) throw new ConfigException(key, "port " + port + " is out of range 1-65535");
        return port;
    }

    private static String trimSlashes(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && s.charAt(a) == '/') a++;
        while (b > a && s.charAt(b - 1) == '/') b--;
        return s.substring(a, b);
    }

    private static String trimTrailing(String s) {
        int b = s.length();
        while (b > 1 && s.charAt(b - 1) == '/') b--;
        return s.substring(0, b);
    }
}
