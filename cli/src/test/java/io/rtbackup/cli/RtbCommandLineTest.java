package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RtbCommandLineTest {

    @Test
    void helpListsTheSubcommandsAndUnknownOptionsExitTwo() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(Rtb.run("--help")).isZero();
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("broker").contains("restore")
                .contains("prune")
                .contains("reconcile");
            captured.reset();
            assertThat(Rtb.run("--no-such-option")).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("Unknown option").contains("Usage");
            captured.reset();
            assertThat(Rtb.run("broker", "--port", "not-a-number")).isEqualTo(2);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void rtbUpChecksTheSshOptionsBeforeStartingAnything(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        java.nio.file.Path src = java.nio.file.Files.createDirectories(tmp.resolve("src"));
        java.nio.file.Path key = java.nio.file.Files.writeString(tmp.resolve("backup.key"), "k");
        java.nio.file.Path known = java.nio.file.Files.writeString(tmp.resolve("known_hosts"), "h ssh-ed25519 AAAA\n");
        String state = tmp.resolve("state").toString();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(Rtb.run("up", "--source", src.toString(), "--dest", "ssh://rtb@backup.example/",
                "--state-dir", state)).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("--ssh-key FILE", "--known-hosts FILE");
            captured.reset();
            assertThat(Rtb.run("up", "--source", src.toString(), "--dest", tmp.resolve("d").toString(),
                "--ssh-key", key.toString(), "--state-dir", state)).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("--ssh-key is only for an ssh://");
            captured.reset();
            java.nio.file.Files.setPosixFilePermissions(key,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(Rtb.run("up", "--source", src.toString(), "--dest", "ssh://rtb@backup.example/",
                "--ssh-key", key.toString(), "--known-hosts", known.toString(), "--state-dir", state)).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("--ssh-key: ", "chmod 600 " + key);
            assertThat(tmp.resolve("state")).as("nothing started").doesNotExist();
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
