package io.rtbackup.agent.exec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code rsync --daemon --no-detach} on a free 127.0.0.1 port with one writable module and password
 * authentication, in the symlink storage modes the tests contrast ({@link Symlinks}). Everything else uses the
 * testkit's {@code RsyncDaemon}, which runs one fixed configuration.
 */
final class LoopbackDaemon implements AutoCloseable {
    static final String MODULE = "backup";
    static final String USER = "rtb";

    final Path dir;
    final Path modulePath;
    final int port;
    final String password;
    private final Process process;

    private LoopbackDaemon(Path dir, Path modulePath, int port, String password, Process process) {
        this.dir = dir;
        this.modulePath = modulePath;
        this.port = port;
        this.password = password;
        this.process = process;
    }

    /** How the module stores incoming symlinks. */
    enum Symlinks {
        /** {@code use chroot = yes} (rsync then neither munges nor sanitizes): targets are stored byte-exact. */
        EXACT_CHROOT("use chroot = yes", "munge symlinks = no"),
        /** {@code use chroot = no} with rsync's default for it: targets are prefixed with /rsyncd-munged/. */
        MUNGED("use chroot = no", "munge symlinks = yes"),
        /** {@code use chroot = no}, {@code munge symlinks = no}: leading "/" and escaping ".." are stripped. */
        SANITIZED("use chroot = no", "munge symlinks = no");

        final String chroot;
        final String munge;

        Symlinks(String chroot, String munge) {
            this.chroot = chroot;
            this.munge = munge;
        }
    }

    static LoopbackDaemon start(Path dir, Symlinks symlinks) throws IOException, InterruptedException {
        Path module = Files.createDirectories(dir.resolve("module"));
        String password = "pw-" + Long.toHexString(System.nanoTime());
        Path secrets = dir.resolve("secrets");
        Files.writeString(secrets, USER + ":" + password + "\n");
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-------"));
        Path conf = dir.resolve("rsyncd.conf");
        Files.writeString(conf, String.join("\n",
            "pid file = " + dir.resolve("rsyncd.pid"),
            "log file = " + dir.resolve("rsyncd.log"),
            symlinks.chroot,
            "[" + MODULE + "]",
            "path = " + module,
            "read only = no",
            "uid = 0",
            "gid = 0",
            "numeric ids = yes",
            symlinks.munge,
            "auth users = " + USER,
            "secrets file = " + secrets,
            ""), StandardCharsets.UTF_8);
        for (int attempt = 0; ; attempt++) {
            int port = freePort();
            Process p = new ProcessBuilder("rsync", "--daemon", "--no-detach", "--address=127.0.0.1",
                "--port=" + port, "--config=" + conf).redirectErrorStream(true)
                .redirectOutput(dir.resolve("daemon.out").toFile()).start();
            if (awaitListening(port, p)) return new LoopbackDaemon(dir, module, port, password, p);
            p.destroyForcibly().waitFor();
            if (attempt == 5) {
                throw new IOException("rsync daemon did not start: " + Files.readString(dir.resolve("daemon.out")));
            }
        }
    }

    /** rsync://rtb@127.0.0.1:port/backup[/prefix] */
    String url(String prefix) {
        return "rsync://" + USER + "@127.0.0.1:" + port + "/" + MODULE + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean awaitListening(int port, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) return false;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        return false;
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
