package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code root.<id>.exclude} on real parts (broker, fanotify agent, worker, authenticated rsync daemons): nothing
 * the globs match reaches a destination, neither through the start-up rescan's whole-root sync nor through the run
 * of a renamed directory, and what a destination already holds that they match stays there unless the destination
 * says {@code exclude-delete=true}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ExcludesEndToEndTest {

    @Test
    void excludedFilesNeverLeaveTheHost(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.agentOverrides.setProperty("root." + Fleet.ROOT + ".exclude", "*.key, /cache");
            fleet.agentOverrides.setProperty("destination.d2.exclude-delete", "true");
            byte[] src = fleet.source;
            // Before the agent starts: only the start-up rescan's whole-root sync can carry these.
            ByteFs.write(join(src, utf8("secret.key")), utf8("private key"));
            ByteFs.mkdirs(join(src, utf8("docs")));
            ByteFs.write(join(src, utf8("docs/readme")), utf8("hello"));
            ByteFs.write(join(src, utf8("docs/id.key")), utf8("another key"));
            ByteFs.mkdirs(join(src, utf8("cache")));
            ByteFs.write(join(src, utf8("cache/blob")), utf8("cached"));
            ByteFs.mkdirs(join(src, utf8("sub/cache")));
            ByteFs.write(join(src, utf8("sub/cache/kept")), utf8("only /cache is excluded"));
            // Already on both destinations from before the exclude: d1 keeps it, d2 (exclude-delete) drops it.
            for (RsyncDaemon d : List.of(fleet.d1, fleet.d2)) {
                ByteFs.mkdirs(fleet.replica(d));
                ByteFs.write(join(fleet.replica(d), utf8("old.key")), utf8("replicated before"));
            }

            fleet.startWorker().startAgent();
            for (RsyncDaemon d : List.of(fleet.d1, fleet.d2)) awaitFile(fleet, d, "sub/cache/kept");

            // A directory made with an excluded file in it, then renamed: the new name's run lists the directory.
            ByteFs.mkdirs(join(src, utf8("staging")));
            ByteFs.write(join(src, utf8("staging/data.txt")), utf8("data"));
            ByteFs.write(join(src, utf8("staging/server.key")), utf8("third key"));
            ByteFs.rename(join(src, utf8("staging")), join(src, utf8("moved")));
            for (RsyncDaemon d : List.of(fleet.d1, fleet.d2)) awaitFile(fleet, d, "moved/data.txt");
            // And a file written straight into the renamed directory, so its run lists the file.
            ByteFs.write(join(src, utf8("moved/later.txt")), utf8("later"));
            for (RsyncDaemon d : List.of(fleet.d1, fleet.d2)) awaitFile(fleet, d, "moved/later.txt");

            // Runs of one destination may overlap, so the last deletions may still be under way.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(files(fleet.replica(fleet.d1))).containsExactlyInAnyOrder("docs/readme", "moved/data.txt",
                    "moved/later.txt", "old.key", "sub/cache/kept");
                assertThat(files(fleet.replica(fleet.d2))).containsExactlyInAnyOrder("docs/readme", "moved/data.txt",
                    "moved/later.txt", "sub/cache/kept");
            });
        }
    }

    private static void awaitFile(Fleet fleet, RsyncDaemon d, String path) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
            assertThat(ByteFs.lstat(join(fleet.replica(d), utf8(path)))).as("%s on port %d", path, d.port())
                .isPresent());
    }

    /** Regular files below {@code dir}, relative. */
    private static List<String> files(byte[] dir) throws IOException {
        List<String> out = new ArrayList<>();
        ByteFs.walk(dir, (rel, st) -> {
            if (st.isRegular()) out.add(BytePaths.show(rel));
            return true;
        });
        return out;
    }
}
