package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.ByteFs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore test on the whole product: a file written, overwritten twice and deleted on a source
 * watched by the real agent (fanotify), each change replicated through the broker, worker and executor to a
 * real rsync daemon that keeps versions; then {@code rtb restore} brings back each of the three states
 * byte-for-byte, and reports the path absent before it was created and after it was deleted.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KeptVersionsEndToEndTest {
    @TempDir
    Path tmp;

    record Run(int exit, String out) {
    }

    @Test
    void aFileWrittenOverwrittenTwiceAndDeletedIsRestoredAtEachTime(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.agentOverrides.setProperty("destination.d1.keep-versions", "true");
            fleet.agentOverrides.setProperty("destination.d1.versions-keep-days", "7");
            fleet.agentOverrides.setProperty("exec.versions-prune-interval-s", "2");
            // A version dir from weeks ago: the agent's own pruning removes it soon after start.
            byte[] versions = join(fleet.d1.moduleDir("backup"), utf8(".rtb-versions"), utf8(Fleet.HOST),
                utf8(Fleet.ROOT));
            byte[] old = join(versions, utf8(VersionStamp.of(Instant.now().minus(Duration.ofDays(8)), "old").name()));
            ByteFs.mkdirs(old);
            ByteFs.write(join(old, utf8("report.txt")), utf8("ancient"));
            fleet.startWorker().startAgent();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> !ByteFs.exists(old));
            byte[] file = join(fleet.source, utf8("report.txt"));
            byte[] mirrored = join(fleet.replica(fleet.d1), utf8("report.txt"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));

            Instant beforeCreation = settle();
            List<byte[]> contents = List.of(utf8("first\n"), utf8("secnd\n"), utf8("the third, longer one\n"));
            List<Instant> times = new ArrayList<>();
            for (byte[] c : contents) {
                ByteFs.write(file, c);
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                    assertThat(ByteFs.exists(mirrored) ? ByteFs.readAll(mirrored) : null).isEqualTo(c));
                fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
                times.add(settle());
            }
            ByteFs.delete(file);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .until(() -> !ByteFs.exists(mirrored));
            Instant afterDeletion = settle();

            Path config = tmp.resolve("agent.properties");
            Properties p = fleet.agentProperties();
            // The command runs with this process's environment, which has no RSYNC_PASSWORD_*: password files.
            for (String d : List.of("d1", "d2")) {
                Path secret = Files.writeString(Files.createFile(tmp.resolve(d + ".secret"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                    fleet.agentEnv().get("RSYNC_PASSWORD_"
                    + d.toUpperCase(java.util.Locale.ROOT)) + "\n");
                p.setProperty("destination." + d + ".password-file", secret.toString());
            }
            try (Writer w = Files.newBufferedWriter(config)) {
                p.store(w, null);
            }
            for (int i = 0; i < 3; i++) {
                Path to = tmp.resolve("restore-" + i);
                Run r = rtb("restore", new String(file, StandardCharsets.UTF_8), "--at", times.get(i).toString(),
                    "--from", "d1", "--to", to.toString(), "--config", config.toString());
                assertThat(r.exit()).as(r.out()).isZero();
                assertThat(Files.readAllBytes(to.resolve("report.txt"))).as("state %d: %s", i, r.out())
                    .isEqualTo(contents.get(i));
                try (var list = Files.list(to)) {
                    assertThat(list).hasSize(1);
                }
            }
            Run before = rtb("restore", new String(file, StandardCharsets.UTF_8), "--at", beforeCreation.toString(),
                "--from", "d1", "--to", tmp.resolve("before").toString(), "--config", config.toString());
            assertThat(before.exit()).as(before.out()).isEqualTo(1);
            assertThat(before.out()).contains("did not exist");
            assertThat(tmp.resolve("before").resolve("report.txt")).doesNotExist();
            Run after = rtb("restore", new String(file, StandardCharsets.UTF_8), "--at", afterDeletion.toString(),
                "--from", "d1", "--to", tmp.resolve("after").toString(), "--config", config.toString());
            assertThat(after.exit()).as(after.out()).isEqualTo(1);

            // Retention on demand: nothing is 7 days old, so a dry run deletes nothing; d2 keeps no versions.
            Run prune = rtb("prune", "--dry-run", "--config", config.toString());
            assertThat(prune.exit()).as(prune.out()).isZero();
            assertThat(prune.out()).contains("0 version dir(s) would be deleted");
            assertThat(ByteFs.list(versions)).as("the versions made by the test survive the agent's pruning")
                .hasSizeGreaterThanOrEqualTo(3);
            assertThat(fleet.d2.moduleDir("backup")).satisfies(m ->
                assertThat(ByteFs.exists(join(m, utf8(".rtb-versions")))).as("d2 keeps no versions").isFalse());
        }
    }

    /** A time strictly between the last change and the next one. */
    private static Instant settle() throws InterruptedException {
        Thread.sleep(50);
        Instant t = Instant.now();
        Thread.sleep(50);
        return t;
    }

    private static Run rtb(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int exit = Rtb.run(args);
            return new Run(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
