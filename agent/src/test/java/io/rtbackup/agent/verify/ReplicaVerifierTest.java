package io.rtbackup.agent.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real rsync between two local directories (rtb verify's tests cover a daemon and the command line). */
class ReplicaVerifierTest {
    @TempDir
    Path tmp;

    private final RsyncEndpoint local = new RsyncEndpoint("rsync", false, Duration.ofSeconds(30), false, false,
        Optional.empty());

    @Test
    void itemizedLinesBecomeKindAndPath() {
        assertThat(ReplicaVerifier.differences(">fcst...... f\n*deleting   only-here\n>f+++++++++ sub/g\n\nwhat?\n"))
            .containsExactly("changed f  [>fcst......]", "extra   only-here", "missing sub/g", "unparsed what?");
        assertThat(ReplicaVerifier.differences("")).isEmpty();
    }

    @Test
    void excludedPathsAreNotCompared() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = Files.createDirectories(tmp.resolve("dst"));
        Files.writeString(src.resolve("same"), "x");
        Files.writeString(dst.resolve("same"), "x");
        ByteFs.setMtime(BytePaths.utf8(dst.resolve("same").toString()),
            ByteFs.lstat(BytePaths.utf8(src.resolve("same").toString())).orElseThrow().mtimeNs());
        Files.writeString(src.resolve("cache.tmp"), "only in the source");

        ReplicaVerifier.Outcome all = new ReplicaVerifier(local, List.of()).compare(src, dst + "/");
        ReplicaVerifier.Outcome excluding = new ReplicaVerifier(local, List.of("*.tmp")).compare(src, dst + "/");

        assertThat(all).isEqualTo(new ReplicaVerifier.Compared(List.of("missing cache.tmp")));
        assertThat(excluding).isEqualTo(new ReplicaVerifier.Compared(List.of()));
    }

    @Test
    void excludesHaveTheAgentsMeaningAndProtectWhatTheReplicaStillHolds() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = Files.createDirectories(tmp.resolve("dst"));
        Files.createDirectories(src.resolve("build/sub/build"));
        Files.writeString(src.resolve("build/out"), "anchored: excluded");
        Files.writeString(src.resolve("build/sub/build/out"), "below an excluded directory");
        Files.writeString(src.resolve("a[1].key"), "brackets are literal");
        // A secret left on the replica from before it was excluded is no difference either.
        Files.writeString(dst.resolve("old.key"), "replicated before");
        ByteFs.setMtime(BytePaths.utf8(dst.toString()), ByteFs.lstat(BytePaths.utf8(src.toString())).orElseThrow()
            .mtimeNs());

        ReplicaVerifier.Outcome excluding = new ReplicaVerifier(local, List.of("/build", "a[1].key", "*.key"))
            .compare(src, dst + "/");

        assertThat(excluding).isEqualTo(new ReplicaVerifier.Compared(List.of()));
        assertThat(new ReplicaVerifier(local, List.of("/build/out")).compare(src, dst + "/"))
            .isInstanceOfSatisfying(ReplicaVerifier.Compared.class, c -> assertThat(c.differences())
                .contains("missing build/sub/build/out", "missing a[1].key", "extra   old.key")
                .doesNotContain("missing build/out"));
    }

    @Test
    void aMissingRsyncIsNotStartedAndAnUnreadableRootFails() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        RsyncEndpoint nowhere = new RsyncEndpoint("/nonexistent/rsync", false, Duration.ofSeconds(5), false, false,
            Optional.empty());
        assertThat(new ReplicaVerifier(nowhere, List.of()).compare(src, tmp + "/dst/"))
            .isInstanceOf(ReplicaVerifier.NotStarted.class);
        assertThat(new ReplicaVerifier(local, List.of()).compare(tmp.resolve("gone"), tmp + "/dst/"))
            .isInstanceOfSatisfying(ReplicaVerifier.Failed.class, f -> {
                assertThat(f.exitCode()).isEqualTo(23);
                assertThat(f.stderr()).contains("No such file or directory");
            });
    }
}
