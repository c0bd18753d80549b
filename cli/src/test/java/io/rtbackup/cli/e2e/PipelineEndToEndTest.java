package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.worker.SyncReport;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The product on real parts: real broker, real fanotify, real rsync daemons with auth; the agent and worker as
 * they run in production. Convergence is judged by comparing trees, never by counting events.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PipelineEndToEndTest {
    static final int MIB = 1024 * 1024;
    static final int BIG = 256 * MIB;

    @Test
    void aScriptedWorkloadConvergesOnBothDestinations(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            byte[] src = fleet.source;
            // Before the agent starts: the start-up rescan must bring these over (initial full sync).
            HostileNames.createTree(src);
            writeBig(join(src, utf8("big.bin")));
            ByteFs.write(join(src, utf8("keep.txt")), utf8("v1"));
            fleet.startWorker().startAgent();
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(120));
            fleet.reports.clear();

            // Live changes of every kind.
            ByteFs.append(join(src, utf8("keep.txt")), utf8(" appended"));
            ByteFs.write(join(src, utf8("new file.txt")), utf8("fresh"));
            ByteFs.truncate(join(src, HostileNames.all().get(0)), 0);
            ByteFs.chmod(join(src, utf8("keep.txt")), 0640);
            ByteFs.rename(join(src, utf8("new file.txt")), join(src, utf8("renamed file.txt")));
            ByteFs.rename(join(src, utf8("dirs")), join(src, utf8("dirs-renamed")));
            ByteFs.link(join(src, utf8("keep.txt")), join(src, utf8("keep-hardlink.txt")));
            ByteFs.symlink(utf8("keep.txt"), join(src, utf8("keep-symlink")));
            ByteFs.symlink(utf8("/etc/hostname"), join(src, utf8("absolute-symlink")));
            ByteFs.deleteTree(join(src, utf8("deep")));
            byte[] deep = src;
            for (int i = 0; i < 30; i++) deep = join(deep, utf8("level-" + i));
            ByteFs.mkdirs(deep);
            ByteFs.write(join(deep, utf8("bottom")), utf8("at the bottom"));
            ByteFs.mkdir(join(src, utf8("hostile-live")));
            for (byte[] name : HostileNames.all()) ByteFs.write(join(src, utf8("hostile-live"), name), name);
            // Two same-size rewrites within one second: rsync's quick check must not skip the second.
            ByteFs.write(join(src, utf8("same-size")), utf8("AAAA"));
            Thread.sleep(150);
            ByteFs.write(join(src, utf8("same-size")), utf8("BBBB"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(120));
            // Every batch reached the destination it was meant for, first time or after a retry.
            assertThat(fleet.reports).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(SyncOutcome.OK));

            // 1 MiB changed in the middle of the 256 MiB file travels as a delta: <= 2 % of the file on the wire.
            fleet.reports.clear();
            byte[] mib = new byte[MIB];
            new Random(99).nextBytes(mib);
            ByteFs.writeAt(join(src, utf8("big.bin")), BIG / 2, mib);
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(120));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(120));
            for (String dest : List.of("d1", "d2")) {
                List<SyncReport> big = fleet.reports.stream().filter(r -> r.destination().equals(dest)).toList();
                assertThat(big).as("batches to %s", dest).isNotEmpty()
                    .allSatisfy(r -> assertThat(r.samplePaths()).containsExactly("big.bin"));
                long sent = big.stream().mapToLong(SyncReport::bytesSent).sum();
                assertThat(sent).as("bytes sent for big.bin to %s", dest).isLessThanOrEqualTo(BIG / 50);
            }
        }
    }

    static void writeBig(byte[] path) throws Exception {
        Random random = new Random(42);
        byte[] chunk = new byte[4 * MIB];
        ByteFs.write(path, new byte[0]);
        for (int off = 0; off < BIG; off += chunk.length) {
            random.nextBytes(chunk);
            ByteFs.append(path, chunk);
        }
    }
}
