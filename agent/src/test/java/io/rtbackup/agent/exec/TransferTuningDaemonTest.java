package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import io.rtbackup.testkit.TreeDiff;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination's bwlimit, compress, nice and ionice on a real run against a real rsync daemon: the replica
 * converges, and the rsync process really ran niced, in the idle I/O class, asked for zstd and was held to the
 * bandwidth limit. rsync.path is a wrapper script that records, from inside the process that then becomes rsync
 * ({@code exec}), its own niceness ({@code nice}), I/O class ({@code ionice}) and arguments.
 */
class TransferTuningDaemonTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    /** Incompressible bytes sent at {@link #BWLIMIT_KIB} KiB/s: at least about three seconds on the wire. */
    private static final int BIG = 1536 * 1024;
    private static final int BWLIMIT_KIB = 512;

    @TempDir
    Path tmp;

    @Test
    void aTunedRunConvergesUnderNiceIdleIoZstdAndTheBandwidthLimit() throws Exception {
        Path module = Files.createDirectories(tmp.resolve("module"));
        Path record = tmp.resolve("record");
        Path wrapper = tmp.resolve("rsync-wrapper");
        Files.writeString(wrapper, "#!/bin/sh\n"
            + "echo \"nice=$(nice) io=$(ionice) args=$*\" >> '" + record + "'\n"
            + "exec rsync \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        byte[] src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
        byte[] big = new byte[BIG];
        new Random(17).nextBytes(big);
        ByteFs.write(BytePaths.join(src, b("big.bin")), big);
        ByteFs.mkdirs(BytePaths.join(src, b("sub dir")));
        ByteFs.write(BytePaths.join(src, b("sub dir/text")), "compressible ".repeat(4000).getBytes(StandardCharsets.US_ASCII));

        try (RsyncDaemon daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("d")).toString()))
                .auth("rtb", PASSWORD).module("backup", BytePaths.utf8(module.toString())).start()) {
            Properties p = new Properties();
            p.setProperty("rsync.path", wrapper.toString());
            p.setProperty("destination.remote.url", daemon.url("backup") + "/tuned");
            p.setProperty("destination.remote.bwlimit", Integer.toString(BWLIMIT_KIB));
            p.setProperty("destination.remote.compress", "zstd");
            p.setProperty("destination.remote.nice", "10");
            p.setProperty("destination.remote.ionice", "idle");
            ExecConfig config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", PASSWORD));
            CommandValidator validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
            ValidationResult v = validator.validate(Commands.full(HOST, ROOT, "remote"));
            assertThat(v).isInstanceOf(ValidationResult.Accepted.class);

            long started = System.nanoTime();
            ReplicationReport r = new RsyncRunner(config.rsyncPath()).replicate(((ValidationResult.Accepted) v).job());
            double seconds = (System.nanoTime() - started) / 1e9;

            assertThat(r.outcome()).as("outcome, error %s", r.error()).isEqualTo(SyncOutcome.OK);
            TreeDiff.Result diff = TreeDiff.compareTrees(src, BytePaths.utf8(module.resolve("tuned/" + HOST + "/" + ROOT).toString()));
            assertThat(diff.isEqual()).as("%s", diff.firstDifference()).isTrue();
            // rsync's limit can only slow a run down, so a lower bound holds however loaded the machine is
            assertThat(seconds).as("run time of %d KiB at %d KiB/s", BIG / 1024, BWLIMIT_KIB).isGreaterThan(1.5);
        }

        int expectedNice = Math.min(19, ownNiceness() + 10);
        List<String> runs = Files.readAllLines(record);
        assertThat(runs).isNotEmpty().allSatisfy(line -> assertThat(line)
            .startsWith("nice=" + expectedNice + " io=idle args=")
            .contains("--bwlimit=" + BWLIMIT_KIB, "--compress ", "--compress-choice=zstd")
            .doesNotContain(PASSWORD));
    }

    /** The niceness this JVM's children start from (a CI runner may itself be niced). */
    private static int ownNiceness() throws IOException, InterruptedException {
        Process proc = new ProcessBuilder("nice").redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertThat(proc.waitFor()).isZero();
        return Integer.parseInt(out);
    }
}
