package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.rsync.RsyncFileErrors.FileError;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.FailureSide;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rsync exit 23/24 told apart by the end that failed, with real rsync 3.2.7 runs into a real daemon. The tests run
 * as root, who reads every file whatever its mode; the agent's rsync goes through {@code setpriv} without
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH here, so a mode-000 file is as unreadable to it as to an agent running
 * under its own user (rsync itself is unchanged: the wrapper only drops the capabilities and execs it).
 */
class PartialTransferSidesTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());

    @TempDir
    Path tmp;
    private RsyncDaemon daemon;
    private Path module;
    private byte[] src;
    private CommandValidator validator;
    private RsyncRunner runner;

    @BeforeEach
    void setUp() throws Exception {
        module = Files.createDirectories(tmp.resolve("module"));
        daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon")).toString()))
            .auth("rtb", PASSWORD).module("backup", BytePaths.utf8(module.toString())).start();
        src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
        Path wrapper = tmp.resolve("rsync-without-dac-override");
        Files.writeString(wrapper, "#!/bin/sh\nexec setpriv --inh-caps=-dac_override,-dac_read_search "
            + "--bounding-set=-dac_override,-dac_read_search rsync \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        Properties p = new Properties();
        p.setProperty("destination.remote.url", daemon.url("backup"));
        p.setProperty("destination.remote.timeout-s", "20");
        p.setProperty(ExecConfig.RSYNC_PATH, wrapper.toString());
        ExecConfig config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", PASSWORD));
        validator = new CommandValidator(HOST, Map.of(ROOT, src), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    @AfterEach
    void tearDown() throws Exception {
        runner.close();
        daemon.close();
    }

    private ReplicationJob job(byte[]... paths) {
        ValidationResult v = validator.validate(Commands.paths(HOST, ROOT, "remote", paths));
        assertThat(v).isInstanceOf(ValidationResult.Accepted.class);
        return ((ValidationResult.Accepted) v).job();
    }

    private byte[] replica(String rel) {
        return replica(b(rel));
    }

    private byte[] replica(byte[] rel) {
        return BytePaths.join(BytePaths.utf8(module.resolve(HOST).resolve(ROOT).toString()), rel);
    }

    private void write(byte[] rel, String content) throws IOException {
        ByteFs.mkdirs(BytePaths.parent(BytePaths.join(src, rel)));
        ByteFs.write(BytePaths.join(src, rel), content.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void unreadableSourcePathsAreLeftOutAndEverythingElseArrivesDeletionsIncluded() throws Exception {
        byte[] newline = b("new\nline \u00ff");
        byte[] globby = b("dir/*?[ab] \\#012");
        write(b("ok"), "1");
        write(newline, "old");
        write(globby, "old");
        write(b("dir/gone-later"), "x");
        write(b("locked/inside"), "old");
        assertThat(runner.replicate(job(b("ok"), newline, b("dir"), b("locked"))).outcome())
            .isEqualTo(SyncOutcome.OK);

        write(b("ok"), "2");
        write(newline, "new");
        write(globby, "new");
        ByteFs.delete(BytePaths.join(src, b("dir/gone-later")));
        ByteFs.chmod(BytePaths.join(src, newline), 0);
        ByteFs.chmod(BytePaths.join(src, globby), 0);
        ByteFs.chmod(BytePaths.join(src, b("locked")), 0);
        try {
            ReplicationReport r = runner.replicate(job(b("ok"), newline, b("dir"), b("locked")));

            assertThat(r.outcome()).as("error %s", r.error()).isEqualTo(SyncOutcome.PARTIAL);
            assertThat(r.side()).isEqualTo(FailureSide.SOURCE);
            assertThat(r.stuck()).extracting(e -> BytePaths.show(e.path()))
                .containsExactlyInAnyOrder(BytePaths.show(newline), BytePaths.show(globby), "locked");
            assertThat(r.stuck()).extracting(FileError::reason).allSatisfy(reason ->
                assertThat(reason).endsWith("Permission denied (13)"));
            // The rest arrived, the deletion in a listed directory too (rsync skips deletions after a read
            // error, so the agent ran the pass again without the unreadable paths).
            assertThat(ByteFs.readAll(replica("ok"))).isEqualTo(b("2"));
            assertThat(ByteFs.lstat(replica("dir/gone-later"))).isEmpty();
            // The replica keeps its copies of what could not be read: excluded entries are protected from --delete.
            assertThat(ByteFs.readAll(replica(newline))).isEqualTo(b("old"));
            assertThat(ByteFs.readAll(replica(globby))).isEqualTo(b("old"));
            assertThat(ByteFs.readAll(replica("locked/inside"))).isEqualTo(b("old"));
        } finally {
            ByteFs.chmod(BytePaths.join(src, newline), 0644);
            ByteFs.chmod(BytePaths.join(src, globby), 0644);
            ByteFs.chmod(BytePaths.join(src, b("locked")), 0755);
        }
        ReplicationReport again = runner.replicate(job(newline, b("dir"), b("locked")));
        assertThat(again.outcome()).isEqualTo(SyncOutcome.OK);
        assertThat(again.side()).isEqualTo(FailureSide.NONE);
        assertThat(ByteFs.readAll(replica(newline))).isEqualTo(b("new"));
    }

    @Test
    void aDestinationThatCannotStoreAFileIsTheDestinationsFailure() throws Exception {
        write(b("sub/a"), "1");
        write(b("fine"), "1");
        assertThat(runner.replicate(job(b("sub"), b("fine"))).outcome()).isEqualTo(SyncOutcome.OK);
        write(b("sub/a"), "2");
        write(b("fine"), "2");
        Path sub = module.resolve(HOST).resolve(ROOT).resolve("sub");
        chattr("+i", sub);
        try {
            ReplicationReport r = runner.replicate(job(b("sub/a"), b("fine")));
            assertThat(r.outcome()).isEqualTo(SyncOutcome.PARTIAL);
            assertThat(r.exitCode()).isEqualTo(23);
            assertThat(r.side()).isEqualTo(FailureSide.DESTINATION);
            assertThat(r.stuck()).isEmpty();
            assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("Operation not permitted"));
        } finally {
            chattr("-i", sub);
        }
    }

    @Test
    void aPathThatVanishedBeforeRsyncReadItIsNoFailure() throws Exception {
        write(b("stays"), "1");
        write(b("goes \u00e9"), "1");
        ReplicationJob j = job(b("stays"), b("goes \u00e9"));
        // Gone between the agent's look and rsync's: rsync exits 23 with link_stat ENOENT; its deletion comes with
        // its own event.
        ByteFs.delete(BytePaths.join(src, b("goes \u00e9")));
        ReplicationReport r = runner.replicate(j);
        assertThat(r.outcome()).as("error %s", r.error()).isEqualTo(SyncOutcome.OK);
        assertThat(r.side()).isEqualTo(FailureSide.NONE);
        assertThat(r.stuck()).isEmpty();
        assertThat(ByteFs.readAll(replica("stays"))).isEqualTo(b("1"));
    }

    private static void chattr(String flag, Path p) throws Exception {
        Process proc = new ProcessBuilder("chattr", flag, p.toString()).inheritIO().start();
        assertThat(proc.waitFor()).as("chattr %s %s", flag, p).isZero();
    }

}
