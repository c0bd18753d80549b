package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A big file with a small change travels as a delta: rsync's --stats, from a real push to a real daemon. */
class RsyncDeltaTest {
    private static final int MIB = 1 << 20;
    private static final long SIZE = 256L * MIB;

    @TempDir
    Path tmp;

    @Test
    void oneChangedMebibyteInA256MebibyteFileMovesAtMostTwoPercent() throws Exception {
        Path srcDir = Files.createDirectories(tmp.resolve("src"));
        Path file = srcDir.resolve("big.bin");
        writeRandom(file);
        Path module = Files.createDirectories(tmp.resolve("module"));
        try (RsyncDaemon daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon"))
                .toString())).auth("rtb", "delta-pw").module("backup", BytePaths.utf8(module.toString())).start()) {
            Properties p = new Properties();
            p.setProperty("destination.dc.url", daemon.url("backup") + "/fleet");
            ExecConfig cfg = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_DC", "delta-pw"));
            CommandValidator validator = new CommandValidator("h", Map.of("r", BytePaths.utf8(srcDir.toString())),
                cfg.destinations());
            RsyncRunner runner = new RsyncRunner(cfg.rsyncPath());
            var job = ((ValidationResult.Accepted) validator.validate(Commands.paths("h", "r", "dc", b("big.bin"))))
                .job();

            ReplicationReport first = runner.replicate(job);
            assertThat(first.outcome()).isEqualTo(SyncOutcome.OK);
            assertThat(first.stats().literalBytes()).isEqualTo(SIZE);

            byte[] change = new byte[MIB];
            new SplittableRandom(99).nextBytes(change);
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.seek(SIZE / 2 - MIB / 2 + 12345); // not block-aligned
                raf.write(change);
            }
            ReplicationReport delta = runner.replicate(job);

            assertThat(delta.outcome()).isEqualTo(SyncOutcome.OK);
            System.out.printf("256 MiB file, 1 MiB changed: bytes sent %d (%.3f %% of the file), literal %d, "
                + "matched %d, took %d ms (first copy %d ms)%n", delta.stats().bytesSent(),
                100.0 * delta.stats().bytesSent() / SIZE, delta.stats().literalBytes(), delta.stats().matchedBytes(),
                delta.duration().toMillis(), first.duration().toMillis());
            assertThat(delta.stats().bytesSent()).isLessThanOrEqualTo((long) (SIZE * 0.02));
            assertThat(delta.stats().literalBytes()).isBetween((long) MIB, 2L * MIB);
            Path replica = module.resolve("fleet/h/r/big.bin");
            assertThat(Files.mismatch(replica, file)).as("first differing byte").isEqualTo(-1L);
        }
    }

    private static void writeRandom(Path file) throws IOException {
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] chunk = new byte[MIB];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < SIZE; written += MIB) {
                rnd.nextBytes(chunk);
                ByteBuffer buf = ByteBuffer.wrap(chunk);
                while (buf.hasRemaining()) ch.write(buf);
            }
        }
    }
}
