package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.awaitility.Awaitility.await;

import io.rtbackup.agent.Agent;
import io.rtbackup.agent.AgentConfig;
import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.SshServer;
import io.rtbackup.testkit.TreeDiff;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole product with an ssh destination: the fleet's second destination is a real sshd whose key for the
 * source host runs only {@code rrsync} on that host's directory (docs/destinations-ssh.md). The hostile-names
 * tree present at start and then changed live (fanotify, broker, worker, executor) converges there byte-exact,
 * nanosecond mtimes included, as it does on the daemon. (No deletions of listed paths here: rsync 3.2.7's
 * {@code --delete-missing-args} handling is being replaced separately.)
 */
@ExtendWith(KafkaBrokerExtension.class)
class SshEndToEndTest {
    @TempDir
    Path tmp;

    @Test
    void theHostileNamesWorkloadConvergesOnAnRrsyncConfinedSshDestination(KafkaBroker broker) throws Exception {
        Path hostDir = Files.createDirectories(tmp.resolve("srv-backup-" + Fleet.HOST));
        try (Fleet fleet = new Fleet(broker);
             SshServer server = SshServer.builder(Files.createDirectories(tmp.resolve("sshd")))
                 .confinedClient("agent", hostDir).start()) {
            fleet.agentOverrides.setProperty("destination.d2.url", server.url("/"));
            fleet.agentOverrides.setProperty("destination.d2.ssh-key", server.key("agent").toString());
            fleet.agentOverrides.setProperty("destination.d2.known-hosts", server.knownHosts().toString());
            fleet.withCommandTimeout(Duration.ofMinutes(2));
            List<byte[]> created = HostileNames.createTree(fleet.source);
            Map<String, String> env = fleet.agentEnv();
            env.remove("RSYNC_PASSWORD_D2"); // an ssh destination takes no password
            fleet.startWorker();
            fleet.agent = Agent.create(AgentConfig.from(fleet.agentProperties(), env), fleet.topics, fleet.registry,
                    fleet.fatal)
                .start();
            byte[] replica = BytePaths.utf8(hostDir.resolve(Fleet.HOST).resolve(Fleet.ROOT).toString());
            awaitConverged(fleet.source, replica);
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));

            // Live changes: every top-level file rewritten, a new directory with a hostile name and a file in it.
            for (byte[] p : created) {
                byte[] at = join(fleet.source, p);
                if (BytePaths.parent(p).length == 0 && ByteFs.lstat(at).get().isRegular()) {
                    ByteFs.write(at, BytePaths.concat(utf8("rewritten live: "), p));
                }
            }
            byte[] dir = join(fleet.source, utf8("live \u00ff\n-dir"));
            ByteFs.mkdir(dir);
            ByteFs.write(join(dir, utf8("--new file")), utf8("created live"));
            awaitConverged(fleet.source, replica);
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
        }
    }

    private static void awaitConverged(byte[] source, byte[] replica) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            TreeDiff.Result r;
            try {
                r = TreeDiff.defaults().withNanosecondMtime().compare(source, replica);
            } catch (IOException e) {
                throw new AssertionError("the ssh replica is not there yet: " + e.getMessage(), e);
            }
            if (!r.isEqual()) throw new AssertionError("the ssh replica differs: " + r.describe());
        });
    }
}
