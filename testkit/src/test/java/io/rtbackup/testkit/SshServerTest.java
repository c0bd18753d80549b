package io.rtbackup.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixture itself: a real sshd that takes its clients' keys, proves its pinned host key, and stops. */
class SshServerTest {
    @TempDir
    Path tmp;

    private static ExternalCommand.Result ssh(SshServer s, String client, Path knownHosts, String... command)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("ssh", "-F", "none", "-i", s.key(client).toString(),
            "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", Integer.toString(s.port()),
            s.user() + "@" + SshServer.HOST));
        args.addAll(List.of(command));
        return ExternalCommand.of(args).timeout(Duration.ofSeconds(30)).run();
    }

    @Test
    void clientsLogInWithTheirKeysAgainstThePinnedHostKeyOnly() throws IOException {
        Path confined = Files.createDirectories(tmp.resolve("confined"));
        int port;
        try (SshServer s = SshServer.builder(Files.createDirectories(tmp.resolve("sshd"))).client("free")
                .confinedClient("boxed", confined).start()) {
            port = s.port();
            ExternalCommand.Result ok = ssh(s, "free", s.knownHosts(), "echo", "logged-in");
            assertThat(ok.exitCode()).as(ok.describe()).isZero();
            assertThat(ok.stdoutText()).isEqualTo("logged-in\n");
            assertThat(Files.readString(s.key("free")).contains("PRIVATE KEY")).isTrue();
            assertThat(Files.getPosixFilePermissions(s.key("free"))).hasSize(2);

            ExternalCommand.Result wrong = ssh(s, "free", s.wrongKnownHosts(), "echo", "logged-in");
            assertThat(wrong.exitCode()).isEqualTo(255);
            assertThat(wrong.stderrText()).contains("REMOTE HOST IDENTIFICATION HAS CHANGED");

            ExternalCommand.Result boxed = ssh(s, "boxed", s.knownHosts(), "echo", "logged-in");
            assertThat(boxed.exitCode()).isNotZero();
            assertThat(boxed.stdoutText()).doesNotContain("logged-in");
            assertThat(boxed.stderrText()).contains("rrsync");
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(SshServer.HOST, port), 1000);
            throw new AssertionError("sshd still listens on port " + port + " after close()");
        } catch (IOException expected) {
            // stopped
        }
    }
}
