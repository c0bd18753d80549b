package io.rtbackup.testkit;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real OpenSSH server ({@code /usr/sbin/sshd -D -e}) on a free port of 127.0.0.1, with its own host key, its
 * own {@code authorized_keys} and config in a work directory the caller owns. Each {@linkplain Builder#client
 * client} gets an ed25519 key pair of its own, unrestricted ({@code restrict} only) or confined with
 * {@code rrsync -no-lock DIR} to one directory. {@link #knownHosts()} pins the server's host key;
 * {@link #wrongKnownHosts()} pins another key for the same address. Logins are as the user the tests run as
 * (public key only, no PAM); {@code StrictModes} is off because the work directory lives under the
 * world-writable /tmp. Always {@link #close()} it: that stops sshd and the sessions it forked.
 *
 * <pre>{@code
 * try (SshServer s = SshServer.builder(tmp.newDir("sshd")).client("agent").start()) {
 *     String url = s.url("/srv/backup"); // ssh://root@127.0.0.1:PORT/srv/backup
 *     Path key = s.key("agent");
 * }
 * }</pre>
 */
public final class SshServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SshServer.class);

    public static final String HOST = "127.0.0.1";
    public static final String SSHD = "/usr/sbin/sshd";
    public static final String RRSYNC = "/usr/bin/rrsync";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]*");
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._/+=@,-]+");
    private static final long START_TIMEOUT_MS = 15_000;
    private static final long STOP_TIMEOUT_MS = 10_000;
    /** sshd's compiled-in privilege separation directory; Debian's service creates it at boot. */
    private static final Path PRIVSEP_DIR = Path.of("/run/sshd");

    /** Collects clients; {@link #start()} writes keys and config and starts sshd. */
    public static final class Builder {
        private final Path workDir;
        private final Map<String, Optional<Path>> clients = new LinkedHashMap<>();

        private Builder(Path workDir) {
            this.workDir = workDir;
        }

        /** A client whose key may run any command (as the ordinary rsync-over-ssh setup). */
        public Builder client(String name) {
            return add(name, Optional.empty());
        }

        /** A client whose key runs only {@code rrsync -no-lock dir}: rsync confined to {@code dir}. */
        public Builder confinedClient(String name, Path dir) {
            return add(name, Optional.of(dir.toAbsolutePath()));
        }

        private Builder add(String name, Optional<Path> dir) {
            if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("client name '" + name + "'");
            dir.ifPresent(d -> checkSafe(d));
            if (clients.putIfAbsent(name, dir) != null) throw new IllegalArgumentException("client " + name + " twice");
            return this;
        }

        public SshServer start() throws IOException {
            if (clients.isEmpty()) throw new IllegalStateException("an ssh server needs at least one client");
            checkSafe(workDir.toAbsolutePath());
            SshServer s = new SshServer(workDir.toAbsolutePath(), Map.copyOf(clients));
            s.writeFiles();
            IOException last = null;
            for (int attempt = 0; attempt < 5; attempt++) {
                s.port = freePort();
                try {
                    s.launch();
                    return s;
                } catch (PortTakenException e) {
                    last = e;
                    log.info("sshd could not bind port {}, trying another", s.port);
                }
            }
            throw last;
        }
    }

    private static final class PortTakenException extends IOException {
        PortTakenException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final Map<String, Optional<Path>> clients;
    private int port;
    private Process process;

    private SshServer(Path dir, Map<String, Optional<Path>> clients) {
        this.dir = dir;
        this.clients = clients;
    }

    /** Starts configuring a server whose files live in {@code workDir} (existing; a path of safe characters). */
    public static Builder builder(Path workDir) {
        return new Builder(workDir);
    }

    public int port() {
        return port;
    }

    /** The user the clients log in as: the one running the tests. */
    public String user() {
        return System.getProperty("user.name");
    }

    /** {@code ssh://user@127.0.0.1:PORT} + {@code path} (absolute). */
    public String url(String path) {
        return "ssh://" + user() + "@" + HOST + ":" + port + path;
    }

    /** The private key of client {@code name} (mode 600). */
    public Path key(String name) {
        if (!clients.containsKey(name)) throw new IllegalArgumentException("no client " + name);
        return dir.resolve("client-" + name);
    }

    /** A known_hosts file pinning this server's host key for {@code [127.0.0.1]:PORT}. */
    public Path knownHosts() {
        return dir.resolve("known_hosts");
    }

    /** A known_hosts file pinning a different key for the same address: a changed host key. */
    public Path wrongKnownHosts() {
        return dir.resolve("known_hosts.wrong");
    }

    /** sshd's own log (stderr with {@code -e}). */
    public Path logFile() {
        return dir.resolve("sshd.log");
    }

    private void writeFiles() throws IOException {
        if (!Files.isDirectory(PRIVSEP_DIR)) Files.createDirectories(PRIVSEP_DIR);
        keygen(dir.resolve("host_key"), "rtb-test-host");
        keygen(dir.resolve("other_host_key"), "rtb-test-other-host");
        StringBuilder authorized = new StringBuilder();
        for (var c : clients.entrySet()) {
            Path key = dir.resolve("client-" + c.getKey());
            keygen(key, "rtb-test-" + c.getKey());
            String pub = Files.readString(Path.of(key + ".pub"), StandardCharsets.US_ASCII).strip();
            String options = c.getValue().map(d -> "command=\"" + RRSYNC + " -no-lock " + d + "\",restrict")
                .orElse("restrict");
            authorized.append(options).append(' ').append(pub).append('\n');
        }
        Files.writeString(dir.resolve("authorized_keys"), authorized, StandardCharsets.US_ASCII);
        String config = String.join("\n",
            "ListenAddress " + HOST,
            "Port PORT",
            "HostKey " + dir.resolve("host_key"),
            "PidFile " + dir.resolve("sshd.pid"),
            "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PermitUserEnvironment no",
            "LogLevel VERBOSE",
            "");
        Files.writeString(dir.resolve("sshd_config.template"), config, StandardCharsets.US_ASCII);
    }

    private void writePins() throws IOException {
        String host = "[" + HOST + "]:" + port;
        Files.writeString(knownHosts(), host + " " + publicKey("host_key") + "\n", StandardCharsets.US_ASCII);
        Files.writeString(wrongKnownHosts(), host + " " + publicKey("other_host_key") + "\n", StandardCharsets.US_ASCII);
    }

    /** "type base64" of a generated key, without its comment. */
    private String publicKey(String name) throws IOException {
        String[] f = Files.readString(dir.resolve(name + ".pub"), StandardCharsets.US_ASCII).strip().split(" ");
        return f[0] + " " + f[1];
    }

    private static void keygen(Path file, String comment) throws IOException {
        ExternalCommand.Result r = ExternalCommand.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
            "-f", file.toString()).timeout(Duration.ofSeconds(30)).run();
        if (r.exitCode() != 0) throw new IOException("ssh-keygen failed: " + r.describe());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private void launch() throws IOException {
        Path config = dir.resolve("sshd_config");
        String template = Files.readString(dir.resolve("sshd_config.template"), StandardCharsets.US_ASCII);
        Files.writeString(config, template.replace("Port PORT", "Port " + port), StandardCharsets.US_ASCII);
        writePins();
        long offset = Files.exists(logFile()) ? Files.size(logFile()) : 0;
        ProcessBuilder pb = new ProcessBuilder(SSHD, "-D", "-e", "-f", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(logFile().toString())));
        process = pb.start();
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            String out = logSince(offset);
            if (!process.isAlive()) {
                String msg = "sshd on " + HOST + ":" + port + " exited with code " + process.exitValue()
                    + " during startup (config " + config + "): " + out.strip();
                if (out.contains("Address already in use")) throw new PortTakenException(msg);
                throw new IOException(msg);
            }
            if (out.contains("Server listening on") && canConnect()) {
                log.info("sshd pid {} listening on {}:{} (clients {}, dir {})", process.pid(), HOST, port,
                    clients.keySet(), dir);
                return;
            }
            sleep(50);
        }
        close();
        throw new IOException("sshd did not listen on " + HOST + ":" + port + " within " + START_TIMEOUT_MS
            + " ms; log: " + logSince(offset).strip());
    }

    private String logSince(long offset) throws IOException {
        if (!Files.exists(logFile())) return "";
        byte[] all = Files.readAllBytes(logFile());
        return all.length <= offset ? "" : new String(all, (int) offset, all.length - (int) offset,
            StandardCharsets.ISO_8859_1);
    }

    private boolean canConnect() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(HOST, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops sshd and every session it forked. */
    @Override
    public void close() throws IOException {
        if (process == null || !process.isAlive()) return;
        // collect the sessions first: once the listener is gone they are re-parented and out of reach
        List<ProcessHandle> children = new ArrayList<>(process.descendants().toList());
        children.forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping sshd on port " + port, e);
        } finally {
            for (ProcessHandle h : children) if (h.isAlive()) h.destroyForcibly();
        }
        log.info("sshd on {}:{} stopped", HOST, port);
    }

    private static void checkSafe(Path p) {
        if (!SAFE_PATH.matcher(p.toString()).matches()) {
            throw new IllegalArgumentException("'" + p + "' must be an absolute path of [A-Za-z0-9._/+=@,-]: it goes "
                + "into sshd's config, authorized_keys and ssh's command line");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(HOST, 0));
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for sshd", e);
        }
    }

    @Override
    public String toString() {
        return "SshServer[" + HOST + ":" + port + ", clients " + clients.keySet() + "]";
    }
}
