package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.SshServer;
import io.rtbackup.testkit.TempDirs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** rtb verify against a real rsync daemon (with auth) and a local directory replica. */
class VerifyCommandTest {
    TempDirs tmp;
    byte[] src;
    byte[] module;
    byte[] replica; // <module>/<host>/<root-id>
    RsyncDaemon daemon;

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void setUp() throws IOException, InterruptedException {
        tmp = TempDirs.create("rtb-verify");
        src = tmp.newDir("src");
        ByteFs.write(BytePaths.join(src, BytePaths.utf8("f")), BytePaths.utf8("hello world\n"));
        ByteFs.mkdirs(BytePaths.join(src, BytePaths.utf8("sub")));
        ByteFs.write(BytePaths.join(src, BytePaths.utf8("sub/g")), BytePaths.utf8("gee\n"));
        module = tmp.newDir("module");
        replica = BytePaths.join(module, BytePaths.utf8("h1/data"));
        ByteFs.mkdirs(replica);
        copy();
        daemon = RsyncDaemon.builder(tmp.newDir("daemon")).auth("rtb", "s3cret").module("backup", module).start();
    }

    @AfterEach
    void tearDown() throws IOException {
        if (daemon != null) daemon.close();
        tmp.close();
    }

    /** The replica as the agent makes it: a real rsync of the root. */
    void copy() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("rsync", "-a", "-H", "--delete", "--numeric-ids",
            new String(src, StandardCharsets.UTF_8) + "/", new String(replica, StandardCharsets.UTF_8) + "/")
            .inheritIO().start();
        assertThat(p.waitFor()).isZero();
    }

    Run verify(Map<String, String> env, String... args) {
        VerifyCommand cmd = new VerifyCommand();
        cmd.env = env;
        CommandLine cl = new CommandLine(cmd);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    Run againstDaemon() {
        return verify(Map.of("RSYNC_PASSWORD_NAS", "s3cret"), "--root", new String(src, StandardCharsets.UTF_8),
            "--dest", daemon.url("backup"), "--dest-name", "nas", "--host-id", "h1", "--root-id", "data");
    }

    Run againstLocal() {
        return verify(Map.of(), "--root", new String(src, StandardCharsets.UTF_8),
            "--dest", new String(module, StandardCharsets.UTF_8), "--host-id", "h1", "--root-id", "data");
    }

    @Test
    void anEqualReplicaExitsZero() {
        Run d = againstDaemon();
        assertThat(d.exit()).as(d.toString()).isZero();
        assertThat(d.out()).contains("are equal");
        Run l = againstLocal();
        assertThat(l.exit()).as(l.toString()).isZero();
    }

    @Test
    void aChangedFileWithTheSameSizeAndTimeIsFoundByChecksum() throws IOException {
        byte[] f = BytePaths.join(replica, BytePaths.utf8("f"));
        long mtime = ByteFs.lstat(f).orElseThrow().mtimeNs();
        ByteFs.write(f, BytePaths.utf8("hello World\n"));
        ByteFs.setMtime(f, mtime);
        for (Run r : List.of(againstDaemon(), againstLocal())) {
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.out()).containsPattern("(?m)^changed f  \\[[<>]fc\\S*\\]$").contains("1 path differs");
        }
    }

    @Test
    void extraAndMissingFilesAreNamed() throws IOException {
        ByteFs.write(BytePaths.join(replica, BytePaths.utf8("only-here")), BytePaths.utf8("x"));
        ByteFs.delete(BytePaths.join(replica, BytePaths.utf8("sub/g")));
        Run r = againstDaemon();
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).containsPattern("(?m)^extra   only-here$").containsPattern("(?m)^missing sub/g$");
    }

    @Test
    void aNameWithANewlineAndNonAsciiBytesStaysOnOneEscapedLine() throws IOException {
        byte[] name = {'a', '\n', 'b', (byte) 0xe9};
        ByteFs.write(BytePaths.join(src, name), BytePaths.utf8("z"));
        Run r = againstDaemon();
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).containsPattern("(?m)^missing a\\\\#012b\\\\#351$");
    }

    @Test
    void aPasswordFileOthersCanReadIsRefusedAsRsyncRefusesIt() throws IOException {
        java.nio.file.Path pw = java.nio.file.Path.of(new String(tmp.resolve("nas.secret"), StandardCharsets.UTF_8));
        java.nio.file.Files.writeString(java.nio.file.Files.createFile(pw, java.nio.file.attribute.PosixFilePermissions
            .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"))), "s3cret\n");
        String[] args = {"--root", new String(src, StandardCharsets.UTF_8), "--dest", daemon.url("backup"),
            "--password-file", pw.toString(), "--host-id", "h1", "--root-id", "data"};
        Run open = verify(Map.of(), args);
        assertThat(open.exit()).as(open.toString()).isEqualTo(2);
        assertThat(open.err()).contains("--password-file " + pw, "group or others", "chmod 600");
        java.nio.file.Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Run ok = verify(Map.of(), args);
        assertThat(ok.exit()).as(ok.toString()).isZero();
    }

    @Test
    void usageErrorsExitTwoAndAnUnreachableDestinationThree() throws IOException {
        String root = new String(src, StandardCharsets.UTF_8);
        Run relative = verify(Map.of(), "--root", root, "--dest", "backups/here", "--host-id", "h1");
        assertThat(relative.exit()).isEqualTo(2);
        assertThat(relative.err()).contains("--dest 'backups/here'");
        Run noPassword = verify(Map.of(), "--root", root, "--dest", daemon.url("backup"), "--dest-name", "nas");
        assertThat(noPassword.exit()).isEqualTo(2);
        assertThat(noPassword.err()).contains("RSYNC_PASSWORD_NAS");
        Run badRootId = verify(Map.of(), "--root", root, "--dest", "/tmp", "--root-id", "..");
        assertThat(badRootId.exit()).isEqualTo(2);
        daemon.stop();
        Run down = againstDaemon();
        assertThat(down.exit()).as(down.toString()).isEqualTo(3);
        assertThat(down.err()).contains("failed with exit");
    }

    @Test
    void anSshDestinationIsComparedThroughThePinnedHostKeyOnly() throws IOException {
        java.nio.file.Path sshdDir = java.nio.file.Path.of(new String(tmp.newDir("sshd"), StandardCharsets.UTF_8));
        try (SshServer server = SshServer.builder(sshdDir).client("agent").start()) {
            String url = server.url(new String(module, StandardCharsets.UTF_8));
            String[] common = {"--root", new String(src, StandardCharsets.UTF_8), "--dest", url, "--host-id", "h1",
                "--root-id", "data", "--ssh-key", server.key("agent").toString()};
            Run equal = verify(Map.of(), concat(common, "--known-hosts", server.knownHosts().toString()));
            assertThat(equal.exit()).as(equal.err()).isEqualTo(VerifyCommand.EQUAL);

            ByteFs.write(BytePaths.join(src, BytePaths.utf8("f")), BytePaths.utf8("HELLO WORLD\n"));
            Run different = verify(Map.of(), concat(common, "--known-hosts", server.knownHosts().toString()));
            assertThat(different.exit()).isEqualTo(VerifyCommand.DIFFERENT);
            assertThat(different.out()).contains("changed f");

            Run wrongPin = verify(Map.of(), concat(common, "--known-hosts", server.wrongKnownHosts().toString()));
            assertThat(wrongPin.exit()).isEqualTo(VerifyCommand.FAILED);
            assertThat(wrongPin.err()).contains(server.wrongKnownHosts().toString(), "nothing was sent");

            Run noPin = verify(Map.of(), common);
            assertThat(noPin.exit()).isEqualTo(2);
            assertThat(noPin.err()).contains("--known-hosts");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
