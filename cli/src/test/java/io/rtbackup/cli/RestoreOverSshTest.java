package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.ReplicationReport;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.ValidationResult;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.SshServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * rtb restore from an ssh destination set up as docs/destinations-ssh.md says: a real sshd whose key for this
 * host runs only {@code rrsync} on the host's directory. The executor fills it (with kept versions), rtb restore
 * reads it back with rtb up's options ({@code --dest ssh://... --ssh-key --known-hosts}).
 */
class RestoreOverSshTest {
    @TempDir
    Path tmp;
    Path src;
    Path hostDir;
    SshServer server;
    CommandValidator validator;
    RsyncRunner runner;

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        hostDir = Files.createDirectories(tmp.resolve("srv-backup-h1"));
        server = SshServer.builder(Files.createDirectories(tmp.resolve("sshd"))).confinedClient("h1", hostDir).start();
        Properties p = new Properties();
        p.setProperty("destination.backup.url", server.url("/"));
        p.setProperty("destination.backup.ssh-key", server.key("h1").toString());
        p.setProperty("destination.backup.known-hosts", server.knownHosts().toString());
        p.setProperty("destination.backup.keep-versions", "true");
        ExecConfig config = ExecConfig.from(p, Map.of());
        validator = new CommandValidator("h1", Map.of("src", BytePaths.utf8(src.toString())), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    @AfterEach
    void tearDown() throws Exception {
        runner.close();
        if (server != null) server.close();
    }

    Instant fullSync() throws InterruptedException {
        SyncCommand cmd = SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId("h1")
            .setRootId("src").setDestination("backup").setIssuedAtMs(System.currentTimeMillis()).setReplyTo("t")
            .setCovers(List.of()).setRemotePrefix(null).setPaths(List.of()).setFullSync(true).build();
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) validator.validate(cmd)).job());
        assertThat(r.outcome()).as("%s", r.error()).isEqualTo(SyncOutcome.OK);
        Thread.sleep(20);
        Instant t = Instant.now();
        Thread.sleep(20);
        return t;
    }

    Run restore(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--source", src.toString(), "--dest", server.url("/"), "--host-id", "h1",
            "--ssh-key", server.key("h1").toString(), "--known-hosts", server.knownHosts().toString()));
        CommandLine cl = new CommandLine(new RestoreCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(a.toArray(new String[0]));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void restoresAnEarlierStateThroughAnRrsyncConfinedKey() throws Exception {
        Files.createDirectories(src.resolve("docs"));
        Files.writeString(src.resolve("docs/a b.txt"), "a1");
        Files.writeString(src.resolve("docs/-b.txt"), "b1");
        Instant t1 = fullSync();
        Files.writeString(src.resolve("docs/a b.txt"), "a2");
        Files.delete(src.resolve("docs/-b.txt"));
        fullSync();
        assertThat(hostDir.resolve("h1/src/docs/a b.txt")).hasContent("a2");
        assertThat(hostDir.resolve(".rtb-versions/h1/src")).isDirectory();

        Path to = tmp.resolve("out");
        Run r = restore(src.resolve("docs").toString(), "--at", t1.toString(), "--to", to.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(to.resolve("docs/a b.txt")).hasContent("a1");
        assertThat(to.resolve("docs/-b.txt")).hasContent("b1");

        Run now = restore(src.resolve("docs").toString(), "--at", "now", "--to", tmp.resolve("now").toString());
        assertThat(now.exit()).as(now.err()).isZero();
        assertThat(tmp.resolve("now/docs/a b.txt")).hasContent("a2");
        assertThat(tmp.resolve("now/docs/-b.txt")).doesNotExist();
    }
}
