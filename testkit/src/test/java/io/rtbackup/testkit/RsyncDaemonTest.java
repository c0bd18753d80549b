package io.rtbackup.testkit;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RsyncDaemonTest {

    private TempDirs tmp;
    private byte[] src;

    @BeforeEach
    void setUp() throws IOException {
        tmp = TempDirs.create("rtb-rsyncd-");
        src = tmp.newDir("src");
    }

    @AfterEach
    void tearDown() throws IOException {
        tmp.close();
    }

    /** rsync -aH of the given relative paths, read NUL-separated from stdin, from src to the url. */
    private ExternalCommand.Result push(List<byte[]> relPaths, String url, Map<String, String> env) throws IOException {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (byte[] p : relPaths) {
            list.writeBytes(p);
            list.write(0);
        }
        ExternalCommand cmd = ExternalCommand.of("rsync", "-aH", "--numeric-ids", "--files-from=-", "--from0",
                "./", url + "/").stdin(list.toByteArray()).directory(tmp.pathString() + "/src");
        for (Map.Entry<String, String> e : env.entrySet()) {
            cmd = cmd.env(e.getKey(), e.getValue());
        }
        return cmd.run();
    }

    @Test
    void hostileTreePushedWithAuthArrivesByteExact() throws IOException {
        List<byte[]> created = HostileNames.createTree(src);
        ByteFs.setMtime(join(src, HostileNames.all().get(0)), 1_234_567_890_123_456_789L);
        byte[] data = tmp.newDir("data");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon"))
                .auth("backup", "s3cret pass").module("data", data).start()) {
            assertThat(daemon.url("data")).isEqualTo("rsync://backup@127.0.0.1:" + daemon.port() + "/data");

            ExternalCommand.Result r = push(created, daemon.url("data"), daemon.clientEnv());
            assertThat(r.exitCode()).as(r.describe()).isZero();

            TreeDiff.Result diff = TreeDiff.defaults().withNanosecondMtime().withOwner().compare(src, data);
            assertThat(diff.isEqual()).as(diff.describe()).isTrue();
            assertThat(ByteFs.readlink(join(data, utf8("links"), HostileNames.all().get(0))))
                    .isEqualTo(HostileNames.all().get(0));

            // the transfer log names every file, byte-exact after undoing rsync's \#ooo escapes
            List<String> received = daemon.receivedPaths().stream().map(BytePaths::show).toList();
            for (byte[] name : HostileNames.all()) {
                assertThat(received).contains(BytePaths.show(name));
                assertThat(received).contains(BytePaths.show(join(utf8("dirs"), name, name)));
            }
        }
    }

    @Test
    void wrongPasswordFailsWithExitCode5() throws IOException {
        ByteFs.write(join(src, utf8("f")), utf8("x"));
        byte[] data = tmp.newDir("data");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon"))
                .auth("backup", "right").module("data", data).start()) {
            ExternalCommand.Result r = push(List.of(utf8("f")), daemon.url("data"), Map.of("RSYNC_PASSWORD", "wrong"));
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
            assertThat(r.stderrText()).contains("auth failed on module data");
            assertThat(ByteFs.list(data)).isEmpty();
        }
    }

    @Test
    void readOnlyModuleRefusesPushes() throws IOException {
        ByteFs.write(join(src, utf8("f")), utf8("x"));
        byte[] ro = tmp.newDir("ro");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon")).readOnlyModule("ro", ro).start()) {
            assertThat(daemon.url("ro")).isEqualTo("rsync://127.0.0.1:" + daemon.port() + "/ro");
            ExternalCommand.Result r = push(List.of(utf8("f")), daemon.url("ro"), Map.of());
            assertThat(r.exitCode()).as(r.describe()).isNotZero();
            assertThat(r.stderrText()).contains("read only");
            assertThat(ByteFs.list(ro)).isEmpty();
        }
    }

    @Test
    void killedDaemonRefusesConnectionsAndRestartsOnTheSamePort() throws IOException {
        ByteFs.write(join(src, utf8("a")), utf8("a"));
        ByteFs.write(join(src, utf8("b")), utf8("b"));
        byte[] data = tmp.newDir("data");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon"))
                .auth("u", "p").module("data", data).start()) {
            int port = daemon.port();
            long pid = daemon.pid();
            assertThat(push(List.of(utf8("a")), daemon.url("data"), daemon.clientEnv()).exitCode()).isZero();

            daemon.kill();
            assertThat(daemon.isRunning()).isFalse();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            ExternalCommand.Result refused = push(List.of(utf8("b")), daemon.url("data"), daemon.clientEnv());
            assertThat(refused.exitCode()).as(refused.describe()).isEqualTo(10);

            daemon.restart();
            assertThat(daemon.port()).isEqualTo(port);
            assertThat(daemon.pid()).isNotEqualTo(pid);
            ExternalCommand.Result again = push(List.of(utf8("b")), daemon.url("data"), daemon.clientEnv());
            assertThat(again.exitCode()).as(again.describe()).isZero();
            assertThat(ByteFs.readAll(join(data, utf8("b")))).isEqualTo(utf8("b"));
            // the log spans both runs
            assertThat(daemon.receivedPaths()).extracting(BytePaths::show).containsExactly("a", "b");

            daemon.stop();
            assertThat(daemon.isRunning()).isFalse();
            daemon.restart();
            assertThat(daemon.isRunning()).isTrue();
        }
    }

    @Test
    void maxConnectionsRefusesASecondSessionWhileOneIsOpen() throws IOException {
        ByteFs.write(join(src, utf8("f")), utf8("x"));
        byte[] data = tmp.newDir("data");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon"))
                .auth("u", "p").maxConnections(1).module("data", data).start();
             Socket held = new Socket(RsyncDaemon.HOST, daemon.port())) {
            // speak just enough of the daemon protocol to take the module's only slot: greeting, then module
            InputStream in = held.getInputStream();
            String greeting = readLine(in);
            assertThat(greeting).startsWith("@RSYNCD: ");
            held.getOutputStream().write("@RSYNCD: 32.0 md5\ndata\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("@RSYNCD: AUTHREQD");

            ExternalCommand.Result r = push(List.of(utf8("f")), daemon.url("data"), daemon.clientEnv());
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
            assertThat(r.stderrText()).contains("max connections (1) reached");

            held.close();
            ExternalCommand.Result later = retryPush(daemon);
            assertThat(later.exitCode()).as(later.describe()).isZero();
        }
    }

    /** The held session's child notices the closed socket asynchronously; give it a moment to free the slot. */
    private ExternalCommand.Result retryPush(RsyncDaemon daemon) throws IOException {
        ExternalCommand.Result r = null;
        for (int i = 0; i < 50; i++) {
            r = push(List.of(utf8("f")), daemon.url("data"), daemon.clientEnv());
            if (r.exitCode() == 0) {
                return r;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return r;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            sb.append((char) c);
        }
        return sb.toString();
    }

    @Test
    void closeLeavesNoDaemonProcessesBehind() throws IOException {
        List<Long> pids = new ArrayList<>();
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon")).module("m", tmp.newDir("m")).start()) {
            pids.add(daemon.pid());
            assertThat(daemon.isRunning()).isTrue();
        }
        assertThat(ProcessHandle.of(pids.get(0)).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void symlinkTargetsArriveVerbatimEvenWhenAbsoluteOrEscaping() throws IOException {
        byte[] abs = utf8("/etc/passwd");
        byte[] escaping = utf8("../../../outside");
        ByteFs.symlink(abs, join(src, utf8("abs")));
        ByteFs.symlink(escaping, join(src, utf8("escaping")));
        byte[] data = tmp.newDir("data");
        try (RsyncDaemon daemon = RsyncDaemon.builder(tmp.newDir("daemon")).module("data", data).start()) {
            ExternalCommand.Result r = push(List.of(utf8("abs"), utf8("escaping")), daemon.url("data"), Map.of());
            assertThat(r.exitCode()).as(r.describe()).isZero();
            // a munging daemon stores "/rsyncd-munged/..." or strips the leading '/' and the '..'s
            assertThat(ByteFs.readlink(join(data, utf8("abs")))).isEqualTo(abs);
            assertThat(ByteFs.readlink(join(data, utf8("escaping")))).isEqualTo(escaping);
            assertThat(daemon.receivedPaths().stream().map(BytePaths::show).toList()).contains("abs", "escaping");
        }
    }

    @Test
    void unescapeUndoesRsyncLogEscapes() {
        assertThat(RsyncDaemon.unescape(utf8("new\\#012line \\#377\\#200"))).isEqualTo(
                new byte[] {'n', 'e', 'w', '\n', 'l', 'i', 'n', 'e', ' ', (byte) 0xFF, (byte) 0x80});
        assertThat(RsyncDaemon.unescape(utf8("not \\#8 \\#01"))).isEqualTo(utf8("not \\#8 \\#01"));
    }
}
