package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.rsync.RsyncLauncher;
import io.rtbackup.agent.rsync.RsyncResult;
import io.rtbackup.agent.rsync.RsyncStdin;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.agent.versions.VersionStore;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.ExternalCommand;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.SshServer;
import io.rtbackup.testkit.TreeDiff;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ssh destinations against a real OpenSSH server on 127.0.0.1 (its own host key and authorized_keys): commands
 * go through the validator and {@link RsyncRunner} as the agent runs them. "ssh" logs in with an unrestricted
 * key, "confined" with a key that runs only {@code rrsync} on its own directory (docs/destinations-ssh.md);
 * "wrongpin" pins another host key for the same address and "unpinned" pins none.
 */
class SshDestinationTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";

    @TempDir
    static Path shared;
    private static SshServer server;
    private static Path confinedDir;

    @TempDir
    Path tmp;
    private byte[] src;
    private Path sshDir;
    private ExecConfig config;
    private CommandValidator validator;
    private RsyncRunner runner;

    @BeforeAll
    static void startServer() throws Exception {
        confinedDir = Files.createDirectories(shared.resolve("backup-host-a"));
        server = SshServer.builder(Files.createDirectories(shared.resolve("sshd")))
            .client("agent").confinedClient("confined", confinedDir).start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) server.close();
    }

    @BeforeEach
    void setUp() throws IOException {
        src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
        sshDir = tmp.resolve("over-ssh");
        Path empty = Files.writeString(tmp.resolve("empty_known_hosts"), "");
        Properties p = new Properties();
        destination(p, "ssh", server.url(sshDir.toString()), "agent", server.knownHosts());
        p.setProperty("destination.ssh.keep-versions", "true");
        destination(p, "confined", server.url("/"), "confined", server.knownHosts());
        p.setProperty("destination.confined.keep-versions", "true");
        destination(p, "wrongpin", server.url(sshDir.toString()), "agent", server.wrongKnownHosts());
        destination(p, "unpinned", server.url(sshDir.toString()), "agent", empty);
        config = ExecConfig.from(p, Map.of());
        validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    private static void destination(Properties p, String name, String url, String client, Path knownHosts) {
        p.setProperty("destination." + name + ".url", url);
        p.setProperty("destination." + name + ".ssh-key", server.key(client).toString());
        p.setProperty("destination." + name + ".known-hosts", knownHosts.toString());
        p.setProperty("destination." + name + ".timeout-s", "20");
    }

    /** Where a destination's replica of the root lands on the server. */
    private Path base(String dest) {
        return dest.equals("confined") ? confinedDir : sshDir;
    }

    private byte[] replica(String dest) {
        return BytePaths.utf8(base(dest).resolve(HOST).resolve(ROOT).toString());
    }

    private ReplicationReport run(SyncCommand cmd) {
        ValidationResult v = validator.validate(cmd);
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        return runner.replicate(((ValidationResult.Accepted) v).job());
    }

    private void assertOk(ReplicationReport r) {
        assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ssh", "confined"})
    void theHostileNamesWorkloadConvergesByteExactly(String dest) throws IOException {
        List<byte[]> created = HostileNames.createTree(src);
        assertOk(run(Commands.full(HOST, ROOT, dest)));
        TreeDiff.Result first = TreeDiff.compareTrees(src, replica(dest));
        assertThat(first.isEqual()).as("%s", first.firstDifference()).isTrue();

        // Modifications and creations of listed paths, each name in a new directory too.
        List<byte[]> files = new ArrayList<>();
        for (byte[] p : created) {
            if (BytePaths.parent(p).length == 0 && ByteFs.lstat(BytePaths.join(src, p)).get().isRegular()) files.add(p);
        }
        byte[][] listed = Stream.concat(files.stream(), Stream.of(b("new dir \u00ff\n"), b("new dir \u00ff\n/-n")))
            .toArray(byte[][]::new);
        for (byte[] f : files) ByteFs.write(BytePaths.join(src, f), BytePaths.concat(b("changed "), f));
        ByteFs.mkdir(BytePaths.join(src, b("new dir \u00ff\n")));
        ByteFs.write(BytePaths.join(src, b("new dir \u00ff\n/-n")), b("new"));
        assertOk(run(Commands.paths(HOST, ROOT, dest, listed)));
        TreeDiff.Result second = TreeDiff.compareTrees(src, replica(dest));
        assertThat(second.isEqual()).as("%s", second.firstDifference()).isTrue();

        // What the listed run overwrote was kept, byte-exact names and all, where VersionStore reads it.
        VersionStore store = new VersionStore(config.rsyncPath(), config.destinations().get(dest), HOST + "/" + ROOT);
        List<VersionStamp> versions = store.versions();
        assertThat(versions).hasSize(1);
        Path kept = base(dest).resolve(VersionLayout.VERSIONS_DIR).resolve(HOST).resolve(ROOT)
            .resolve(versions.get(0).name());
        for (byte[] f : files) {
            assertThat(ByteFs.readAll(BytePaths.join(BytePaths.utf8(kept.toString()), f)))
                .isEqualTo(BytePaths.concat(b("content of "), f));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wrongpin", "unpinned"})
    void aHostKeyThatIsNotThePinnedOneFailsNamingTheDestinationAndTheFileAndSendsNothing(String dest)
            throws IOException {
        HostileNames.createTree(src);
        ReplicationReport r = run(Commands.full(HOST, ROOT, dest));

        assertThat(r.outcome()).isEqualTo(SyncOutcome.FAILED);
        Destination d = config.destinations().get(dest);
        String file = ((ExecConfig.SshTarget) d.target()).knownHosts().toString();
        assertThat(r.error()).get().asString().contains("destination '" + dest + "'", file,
            "destination." + dest + ".known-hosts", "nothing was sent");
        assertThat(sshDir).doesNotExist();
    }

    @Test
    void aKeyTheDestinationDoesNotKnowFailsNamingTheKeyFile() throws IOException {
        Path stranger = tmp.resolve("stranger.key");
        ExternalCommand.Result keygen = ExternalCommand.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
            stranger.toString()).run();
        assertThat(keygen.exitCode()).as(keygen.describe()).isZero();
        Properties p = new Properties();
        p.setProperty("destination.stranger.url", server.url(sshDir.toString()));
        p.setProperty("destination.stranger.ssh-key", stranger.toString());
        p.setProperty("destination.stranger.known-hosts", server.knownHosts().toString());
        ExecConfig c = ExecConfig.from(p, Map.of());
        ByteFs.write(BytePaths.join(src, b("f")), b("payload"));
        ValidationResult v = new CommandValidator(HOST, Map.of(ROOT, src), c.destinations())
            .validate(Commands.full(HOST, ROOT, "stranger"));
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) v).job());

        assertThat(r.outcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(r.error()).get().asString().contains("refused the key " + stranger, "destination.stranger.ssh-key");
        assertThat(sshDir).doesNotExist();
    }

    @Test
    void aKeyConfinedWithRrsyncCannotWriteOutsideItsDirectory() throws IOException {
        ByteFs.write(BytePaths.join(src, b("f")), b("payload"));
        Path outside = shared.resolve("outside-" + System.nanoTime());
        RsyncEndpoint endpoint = RsyncEndpoint.of(config.rsyncPath(), config.destinations().get("confined"));
        String hostPart = server.user() + "@" + SshServer.HOST + ":";

        // Up out of the directory: refused before anything is written.
        RsyncResult up = push(endpoint, List.of(), hostPart + "../" + outside.getFileName() + "/");
        assertThat(up.ok()).isFalse();
        assertThat(up.stderr()).contains("rrsync");
        // An absolute path is read inside the directory, not on the host.
        RsyncResult absolute = push(endpoint, List.of("--mkpath"), hostPart + outside + "/");
        assertThat(absolute.ok()).as(absolute.problem()).isTrue();
        assertThat(confinedDir.resolve(outside.toString().substring(1)).resolve("f")).exists();
        // A backup dir that climbs out is refused too.
        RsyncResult backup = push(endpoint, List.of("--backup", "--backup-dir=../../" + outside.getFileName()),
            hostPart + "/" + HOST + "/");
        assertThat(backup.ok()).isFalse();
        assertThat(outside).doesNotExist();
        try (Stream<Path> all = Files.walk(shared)) {
            assertThat(all.filter(p -> p.getFileName().toString().equals(outside.getFileName().toString()))
                .filter(p -> !p.startsWith(confinedDir))).isEmpty();
        }
    }

    private RsyncResult push(RsyncEndpoint endpoint, List<String> options, String destination) throws IOException {
        List<String> args = RsyncArgs.to(endpoint).add("-r").addAll(options)
            .build(new String(src, StandardCharsets.ISO_8859_1) + "/", destination);
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            return launcher.run("rsync-confined", args, endpoint.environment(), RsyncStdin.NONE,
                Duration.ofSeconds(60), 1 << 16);
        }
    }
}
