package io.rtbackup.testkit;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real {@code rsync --daemon} listening on a free port of 127.0.0.1, configured from a generated rsyncd.conf
 * in a work directory the caller owns (typically from {@link TempDirs}). Each module serves one directory; with
 * {@link Builder#auth(String, String)} every module requires that user and password. Transfers are logged to
 * {@link #logFile()} with a fixed marker so {@link #transfers()} can tell which files the daemon received.
 *
 * <pre>{@code
 * try (TempDirs tmp = TempDirs.create("rtb-");
 *      RsyncDaemon d = RsyncDaemon.builder(tmp.newDir("daemon"))
 *              .auth("backup", "s3cret").module("data", tmp.newDir("data")).start()) {
 *     String url = d.url("data"); // rsync://backup@127.0.0.1:PORT/data
 * }
 * }</pre>
 */
public final class RsyncDaemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RsyncDaemon.class);

    public static final String HOST = "127.0.0.1";
    /** Prefix of every transfer log line, after rsync's own timestamp and pid. */
    public static final String TRANSFER_MARKER = "rtb-xfer";

    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final long START_TIMEOUT_MS = 15_000;
    private static final long STOP_TIMEOUT_MS = 10_000;

    /** One module: a name in the URL and the directory it serves. */
    public record Module(String name, byte[] path, boolean readOnly) {
        public Module {
            path = path.clone();
        }

        @Override
        public byte[] path() {
            return path.clone();
        }
    }

    /**
     * One line of the transfer log: rsync's operation ("recv", "send", "del."), its 11-character itemize string
     * (e.g. {@code >f+++++++++}, {@code *deleting  }) and the path relative to the module root (rsync's
     * {@code %f}), without a trailing slash.
     */
    public record Transfer(String operation, String itemize, byte[] path) {
        public Transfer {
            path = path.clone();
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public String toString() {
            return operation + " " + itemize + " " + BytePaths.show(path);
        }
    }

    /** Collects the configuration; {@link #start()} writes it and launches the daemon. */
    public static final class Builder {
        private final byte[] workDir;
        private final Map<String, Module> modules = new LinkedHashMap<>();
        private String user;
        private String password;
        private int maxConnections;
        private String rsyncBinary = "rsync";
        private final Map<String, String> moduleParameters = new LinkedHashMap<>();
        private String host = HOST;
        private List<String> launchPrefix = List.of();
        private int fixedPort;

        private Builder(byte[] workDir) {
            this.workDir = workDir.clone();
        }

        /** Every module requires this user and password ({@code auth users}, {@code secrets file}). */
        public Builder auth(String user, String password) {
            if (!USER_NAME.matcher(user).matches()) {
                throw new IllegalArgumentException("rsync user '" + user + "' must match " + USER_NAME);
            }
            if (password.isEmpty() || password.contains("\n")) {
                throw new IllegalArgumentException("rsync password must be non-empty and on one line");
            }
            this.user = user;
            this.password = password;
            return this;
        }

        /** A writable module serving {@code dir}. */
        public Builder module(String name, byte[] dir) {
            return module(new Module(name, dir, false));
        }

        /** A module with {@code read only = yes}: pushes to it are refused. */
        public Builder readOnlyModule(String name, byte[] dir) {
            return module(new Module(name, dir, true));
        }

        public Builder module(Module m) {
            if (!MODULE_NAME.matcher(m.name()).matches()) {
                throw new IllegalArgumentException("module name '" + m.name() + "' must match " + MODULE_NAME);
            }
            for (byte b : m.path()) {
                if (b == '\n' || b == '\r' || b == 0) {
                    throw new IllegalArgumentException("module '" + m.name() + "' path '"
                            + BytePaths.show(m.path()) + "' cannot be written to rsyncd.conf (line break or NUL)");
                }
            }
            if (modules.putIfAbsent(m.name(), m) != null) {
                throw new IllegalArgumentException("module '" + m.name() + "' declared twice");
            }
            return this;
        }

        /** {@code max connections} per module; 0 (the default) means unlimited. */
        public Builder maxConnections(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("max connections must be >= 0, got " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /**
         * One more rsyncd.conf parameter for every module, e.g. {@code "pre-xfer exec", "/bin/sleep 2"} for a
         * destination that is slow to accept each transfer.
         */
        public Builder moduleParameter(String key, String value) {
            if (!key.matches("[a-z][a-z -]*[a-z]") || value.contains("\n") || value.contains("\r")) {
                throw new IllegalArgumentException("rsyncd.conf parameter '" + key + "' = '" + value
                        + "' must be a lower-case name and a one-line value");
            }
            moduleParameters.put(key, value);
            return this;
        }

        /** The rsync executable, "rsync" (found on PATH) by default. */
        public Builder rsyncBinary(String binary) {
            this.rsyncBinary = binary;
            return this;
        }

        /**
         * Runs the daemon inside network namespace {@code netns} ({@code ip netns exec}), listening on
         * {@code address:port} there; the address must be reachable from this process (e.g. over a bridge).
         */
        public Builder inNetworkNamespace(String netns, String address, int port) {
            if (!netns.matches("[A-Za-z0-9_.-]+") || port < 1 || port > 65535) {
                throw new IllegalArgumentException("network namespace '" + netns + "' or port " + port + " invalid");
            }
            this.launchPrefix = List.of("ip", "netns", "exec", netns);
            this.host = address;
            this.fixedPort = port;
            return this;
        }

        /** Writes rsyncd.conf (and the secrets file) into the work dir and starts the daemon on a free port. */
        public RsyncDaemon start() throws IOException {
            if (modules.isEmpty()) {
                throw new IllegalStateException("an rsync daemon needs at least one module");
            }
            RsyncDaemon d = new RsyncDaemon(this);
            d.writeConfig();
            if (fixedPort > 0) {
                d.port = fixedPort;
                d.launch();
                return d;
            }
            IOException last = null;
            for (int attempt = 0; attempt < 5; attempt++) {
                d.port = freePort();
                try {
                    d.launch();
                    return d;
                } catch (PortTakenException e) {
                    last = e;
                    log.info("rsync daemon could not bind port {}, trying another", d.port);
                }
            }
            throw last;
        }
    }

    /** The daemon failed to bind its port (someone took it between our probe and rsync's bind). */
    private static final class PortTakenException extends IOException {
        PortTakenException(String message) {
            super(message);
        }
    }

    private final byte[] workDir;
    private final String workDirString;
    private final Map<String, Module> modules;
    private final String user;
    private final String password;
    private final int maxConnections;
    private final String rsyncBinary;
    private final Map<String, String> moduleParameters;
    private final String host;
    private final List<String> launchPrefix;
    private int port;
    private Process process;

    private RsyncDaemon(Builder b) {
        this.workDir = b.workDir;
        this.host = b.host;
        this.launchPrefix = b.launchPrefix;
        this.workDirString = new String(b.workDir, StandardCharsets.US_ASCII);
        this.modules = Map.copyOf(b.modules);
        this.user = b.user;
        this.password = b.password;
        this.maxConnections = b.maxConnections;
        this.rsyncBinary = b.rsyncBinary;
        this.moduleParameters = new LinkedHashMap<>(b.moduleParameters);
    }

    /** Starts configuring a daemon whose config, secrets and logs live in {@code workDir} (must exist, ASCII). */
    public static Builder builder(byte[] workDir) {
        for (byte c : workDir) {
            if (c < 0x20 || c >= 0x7F) {
                throw new IllegalArgumentException("work dir '" + BytePaths.show(workDir)
                        + "' must be printable ASCII: its paths are passed as command-line arguments");
            }
        }
        return new Builder(workDir);
    }

    private byte[] file(String name) {
        return BytePaths.join(workDir, BytePaths.utf8(name));
    }

    public byte[] configFile() {
        return file("rsyncd.conf");
    }

    public byte[] logFile() {
        return file("rsyncd.log");
    }

    private byte[] secretsFile() {
        return file("rsyncd.secrets");
    }

    /** Where the daemon's own stdout/stderr go (startup errors before the log file is open). */
    public byte[] outputFile() {
        return file("rsyncd.out");
    }

    private void writeConfig() throws IOException {
        StringBuilder head = new StringBuilder();
        head.append("# generated by io.rtbackup.testkit.RsyncDaemon\n");
        // a lock file per daemon: the default one in /var/run would be shared by every daemon on the machine
        head.append("lock file = ").append(workDirString).append("/rsyncd.lock\n");
        head.append("log file = ").append(workDirString).append("/rsyncd.log\n");
        head.append("transfer logging = yes\n");
        // %f is the path relative to the module root, so tests can match it against the files they pushed
        head.append("log format = ").append(TRANSFER_MARKER).append(" %o %i %f\n");
        // A backup must keep symlink targets verbatim. Without chroot rsync munges them ("/rsyncd-munged/..."), and
        // even with "munge symlinks = no" rsync 3.5 still strips a leading '/' and escaping '..' from targets; inside
        // a chroot neither happens (the daemon runs as root here, as a backup destination usually does).
        head.append("use chroot = yes\n");
        head.append("munge symlinks = no\n");
        // we run as root; the default "nobody" could neither write the module nor set owners
        head.append("uid = root\n");
        head.append("gid = root\n");
        head.append("numeric ids = yes\n");
        head.append("reverse lookup = no\n");

        ByteArrayOutputStream conf = new ByteArrayOutputStream();
        conf.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
        for (Module m : modules.values()) {
            StringBuilder sb = new StringBuilder();
            sb.append("\n[").append(m.name()).append("]\n");
            conf.writeBytes(sb.toString().getBytes(StandardCharsets.US_ASCII));
            // the module path is written as raw bytes: rsync reads its config as bytes
            conf.writeBytes(BytePaths.utf8("    path = "));
            conf.writeBytes(m.path());
            sb.setLength(0);
            sb.append('\n');
            sb.append("    read only = ").append(m.readOnly() ? "yes" : "no").append('\n');
            sb.append("    max connections = ").append(maxConnections).append('\n');
            moduleParameters.forEach((k, v) -> sb.append("    ").append(k).append(" = ").append(v).append('\n'));
            if (user != null) {
                sb.append("    auth users = ").append(user).append('\n');
                sb.append("    secrets file = ").append(workDirString).append("/rsyncd.secrets\n");
                sb.append("    strict modes = yes\n");
            }
            conf.writeBytes(sb.toString().getBytes(StandardCharsets.US_ASCII));
        }
        ByteFs.write(configFile(), conf.toByteArray());
        if (user != null) {
            // strict modes: rsync refuses a secrets file that others can read, so restrict it before writing
            ByteFs.write(secretsFile(), new byte[0]);
            ByteFs.chmod(secretsFile(), 0600);
            ByteFs.write(secretsFile(), (user + ":" + password + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private void launch() throws IOException {
        long logOffset = ByteFs.lstat(logFile()).map(s -> s.size()).orElse(0L);
        List<String> cmd = new ArrayList<>(launchPrefix);
        cmd.addAll(List.of(rsyncBinary, "--daemon", "--no-detach",
                "--config=" + workDirString + "/rsyncd.conf", "--address=" + host, "--port=" + port));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(workDirString + "/rsyncd.out")));
        process = pb.start();
        waitUntilListening(logOffset);
        log.info("rsync daemon pid {} listening on {}:{} (modules {}, config {})", process.pid(), host, port,
                modules.keySet(), workDirString + "/rsyncd.conf");
    }

    private void waitUntilListening(long logOffset) throws IOException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        String listening = "listening on port " + port;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                String why = logSince(logOffset) + readOutput();
                String msg = "rsync daemon on " + host + ":" + port + " exited with code " + process.exitValue()
                        + " during startup (config " + workDirString + "/rsyncd.conf): " + why.strip();
                if (why.contains("Address already in use") || why.contains("bind")) {
                    throw new PortTakenException(msg);
                }
                throw new IOException(msg);
            }
            if (logSince(logOffset).contains(listening) && canConnect()) {
                return;
            }
            sleep(50);
        }
        kill();
        throw new IOException("rsync daemon did not listen on " + host + ":" + port + " within "
                + START_TIMEOUT_MS + " ms; log: " + logSince(logOffset).strip());
    }

    private boolean canConnect() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String logSince(long offset) throws IOException {
        Optional<byte[]> all = readIfExists(logFile());
        if (all.isEmpty() || all.get().length <= offset) {
            return "";
        }
        return new String(all.get(), (int) offset, all.get().length - (int) offset, StandardCharsets.ISO_8859_1);
    }

    private String readOutput() throws IOException {
        return readIfExists(outputFile()).map(b -> new String(b, StandardCharsets.ISO_8859_1)).orElse("");
    }

    private static Optional<byte[]> readIfExists(byte[] path) throws IOException {
        if (!ByteFs.exists(path)) {
            return Optional.empty();
        }
        return Optional.of(ByteFs.readAll(path));
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
            throw new IOException("interrupted", e);
        }
    }

    // ---- addressing -------------------------------------------------------------------------------------------

    public int port() {
        return port;
    }

    /** {@code rsync://user@127.0.0.1:PORT/module} (without {@code user@} when there is no auth). */
    public String url(String module) {
        if (!modules.containsKey(module)) {
            throw new IllegalArgumentException("no module '" + module + "' in this daemon; modules: "
                    + modules.keySet());
        }
        return "rsync://" + (user != null ? user + "@" : "") + host + ":" + port + "/" + module;
    }

    /** The directory a module serves. */
    public byte[] moduleDir(String module) {
        Module m = modules.get(module);
        if (m == null) {
            throw new IllegalArgumentException("no module '" + module + "' in this daemon; modules: "
                    + modules.keySet());
        }
        return m.path();
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    /** Environment for an rsync client: RSYNC_PASSWORD when auth is on, empty otherwise. */
    public Map<String, String> clientEnv() {
        return password == null ? Map.of() : Map.of("RSYNC_PASSWORD", password);
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The listener's pid (connections are served by forked children). */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("rsync daemon not started");
        }
        return process.pid();
    }

    // ---- logs -------------------------------------------------------------------------------------------------

    /** The raw log file (all runs of this daemon), empty if nothing was logged yet. */
    public byte[] log() throws IOException {
        return readIfExists(logFile()).orElse(new byte[0]);
    }

    /** Every transfer log line so far, over all runs, in log order. */
    public List<Transfer> transfers() throws IOException {
        List<Transfer> out = new ArrayList<>();
        byte[] all = log();
        byte[] marker = ("] " + TRANSFER_MARKER + " ").getBytes(StandardCharsets.US_ASCII);
        // A record is one log line, unless a name holds a newline that this rsync did not escape (Debian 12's
        // 3.2.7 writes it raw): then the record goes on over lines that do not start with the log's timestamp.
        int recordStart = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || (all[i] == '\n' && startsRecord(all, i + 1))) {
                byte[] record = Arrays.copyOfRange(all, recordStart, i);
                recordStart = i + 1;
                parseTransfer(record, marker).ifPresent(out::add);
            }
        }
        return out;
    }

    /** Whether a log record starts at {@code at}: "YYYY/MM/DD HH:MM:SS [" (or the end of the log). */
    private static boolean startsRecord(byte[] log, int at) {
        String shape = "dddd/dd/dd dd:dd:dd [";
        if (at >= log.length) return true;
        if (at + shape.length() > log.length) return false;
        for (int k = 0; k < shape.length(); k++) {
            byte b = log[at + k];
            boolean ok = shape.charAt(k) == 'd' ? b >= '0' && b <= '9' : b == shape.charAt(k);
            if (!ok) return false;
        }
        return true;
    }

    /** Paths the daemon received (operation "recv"), relative to the module root. */
    public List<byte[]> receivedPaths() throws IOException {
        return transfers().stream().filter(t -> t.operation().equals("recv")).map(Transfer::path).toList();
    }

    private static Optional<Transfer> parseTransfer(byte[] line, byte[] marker) {
        int at = indexOf(line, marker);
        if (at < 0) {
            return Optional.empty();
        }
        int pos = at + marker.length;
        int opEnd = pos;
        while (opEnd < line.length && line[opEnd] != ' ') {
            opEnd++;
        }
        // "%i" is always 11 characters, padded with spaces for deletions ("*deleting  ")
        if (opEnd + 1 + 11 + 1 > line.length) {
            return Optional.empty();
        }
        String op = new String(line, pos, opEnd - pos, StandardCharsets.US_ASCII);
        String itemize = new String(line, opEnd + 1, 11, StandardCharsets.US_ASCII);
        byte[] logged = Arrays.copyOfRange(line, opEnd + 1 + 11 + 1, line.length);
        byte[] path = LogEscaping.ESCAPES ? unescape(logged) : logged;
        int len = path.length;
        while (len > 1 && path[len - 1] == '/') {
            len--;
        }
        return Optional.of(new Transfer(op, itemize, Arrays.copyOf(path, len)));
    }

    /**
     * Whether this machine's rsync writes unprintable bytes of names as {@code \#ooo} in its daemon log. Builds
     * differ (Debian 12's 3.2.7 writes them raw), and a name may itself read {@code \#012}, so the log alone cannot
     * tell: a real daemon is asked once per JVM, with a name holding byte 0x01.
     */
    private static final class LogEscaping {
        static final boolean ESCAPES = probe();

        private static boolean probe() {
            try (TempDirs tmp = TempDirs.create("rtb-rsyncd-probe-");
                    RsyncDaemon d = builder(tmp.newDir("daemon")).module("m", tmp.newDir("m")).start()) {
                byte[] src = tmp.newDir("src");
                ByteFs.write(BytePaths.join(src, new byte[] {'p', 1}), new byte[] {'x'});
                ExternalCommand.Result r = ExternalCommand.of("rsync", "-r", "./", d.url("m") + "/")
                        .directory(tmp.pathString() + "/src").run();
                if (r.exitCode() != 0) {
                    throw new IllegalStateException("rsync log probe failed: " + r.describe());
                }
                return new String(d.log(), StandardCharsets.ISO_8859_1).contains("p\\#001");
            } catch (IOException e) {
                throw new IllegalStateException("rsync log probe failed", e);
            }
        }
    }

    /** rsync writes bytes it considers unprintable in log lines as {@code \#ooo} (three octal digits). */
    static byte[] unescape(byte[] s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length);
        for (int i = 0; i < s.length; i++) {
            if (s[i] == '\\' && i + 4 < s.length && s[i + 1] == '#' && isOctal(s[i + 2]) && isOctal(s[i + 3])
                    && isOctal(s[i + 4])) {
                out.write(((s[i + 2] - '0') << 6) | ((s[i + 3] - '0') << 3) | (s[i + 4] - '0'));
                i += 4;
            } else {
                out.write(s[i]);
            }
        }
        return out.toByteArray();
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---- lifecycle --------------------------------------------------------------------------------------------

    /** SIGTERM to the listener and the connection children it forked; waits until they are gone. */
    public void stop() throws IOException {
        terminate(false);
    }

    /** SIGKILL to the listener and its children: a crash, in the middle of whatever they were doing. */
    public void kill() throws IOException {
        terminate(true);
    }

    /** Stops the daemon if it runs and starts it again on the same port with the same configuration. */
    public void restart() throws IOException {
        stop();
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            try {
                launch();
                return;
            } catch (PortTakenException e) {
                // the old listener's socket may linger for a moment; the port is ours to reuse
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                sleep(200);
            }
        }
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void terminate(boolean forcibly) throws IOException {
        if (process == null || !process.isAlive()) {
            return;
        }
        // collect the children first: once the listener is gone they are re-parented and out of reach
        List<ProcessHandle> children = process.descendants().toList();
        if (forcibly) {
            process.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        } else {
            process.destroy();
            children.forEach(ProcessHandle::destroy);
        }
        try {
            // Process.waitFor, not ProcessHandle.onExit: the latter polls for a child another thread reaps
            if (!process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                log.warn("rsync daemon pid {} ignored SIGTERM for {} ms, killing it", process.pid(), STOP_TIMEOUT_MS);
                process.destroyForcibly();
                process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
            for (ProcessHandle h : children) {
                try {
                    h.onExit().get(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    log.warn("rsync daemon child {} ignored the signal, killing it", h.pid());
                    h.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the rsync daemon on port " + port, e);
        } catch (ExecutionException e) {
            throw new IOException("waiting for an rsync daemon child failed", e);
        }
        log.info("rsync daemon on {}:{} {}", host, port, forcibly ? "killed" : "stopped");
    }

    @Override
    public String toString() {
        return "RsyncDaemon[" + host + ":" + port + ", modules " + modules.keySet() + "]";
    }
}
