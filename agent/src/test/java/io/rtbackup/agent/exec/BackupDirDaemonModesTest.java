package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.agent.versions.VersionStamp;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Where rsync puts {@code --backup-dir} on a daemon depends on the module's chroot setting: without chroot the
 * daemon strips a relative path's "..", so only a module-absolute path lands beside the mirrors in both modes.
 * This runs the executor's arguments against real daemons of each kind.
 */
class BackupDirDaemonModesTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(LoopbackDaemon.Symlinks.class)
    void versionsLandBesideTheMirrorWhateverTheChrootSetting(LoopbackDaemon.Symlinks mode) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        try (LoopbackDaemon d = LoopbackDaemon.start(Files.createDirectories(tmp.resolve("daemon")), mode)) {
            Properties p = new Properties();
            p.setProperty("destination.v.url", d.url("fleet/a"));
            p.setProperty("destination.v.keep-versions", "true");
            ExecConfig config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_V", d.password));
            Instant fixed = Instant.parse("2026-11-26T19:40:12.345Z");
            RsyncRunner runner = new RsyncRunner(config.rsyncPath(), Clock.fixed(fixed, ZoneOffset.UTC));
            CommandValidator validator = new CommandValidator("h", Map.of("r",
                BytePaths.utf8(src.toString())), config.destinations());

            Files.writeString(src.resolve("f"), "one");
            var cmd = Commands.paths("h", "r", "v", b("f"));
            ReplicationJob job = ((ValidationResult.Accepted) validator.validate(cmd)).job();
            assertThat(runner.replicate(job).outcome()).isEqualTo(SyncOutcome.OK);
            Files.writeString(src.resolve("f"), "two");
            var cmd2 = Commands.paths("h", "r", "v", b("f"));
            ReplicationJob job2 = ((ValidationResult.Accepted) validator.validate(cmd2)).job();
            List<RsyncPlanner.Pass> plan = runner.plan(job2);
            String stamp = VersionStamp.of(fixed, cmd2.getCommandId()).name();
            assertThat(stamp).startsWith("20261126T194012.345Z-");
            assertThat(plan.get(0).args()).contains("--backup", "--backup-dir=/fleet/a/.rtb-versions/h/r/" + stamp);
            ReplicationReport r = runner.replicate(job2);
            assertThat(r.outcome()).as("%s", r.error()).isEqualTo(SyncOutcome.OK);

            Path module = d.modulePath;
            assertThat(module.resolve("fleet/a/h/r/f")).hasContent("two");
            assertThat(module.resolve("fleet/a/" + VersionLayout.VERSIONS_DIR + "/h/r/" + stamp + "/f")).hasContent("one");
            assertThat(module.resolve("fleet/a/h/r/" + VersionLayout.VERSIONS_DIR)).doesNotExist();
            assertThat(runner.versionedDirs("v")).containsExactly("h/r");
        }
    }

    @Test
    void aRootRoutedIntoTheVersionsTreeIsRejected() throws Exception {
        Properties p = new Properties();
        p.setProperty("destination.v.url", tmp.resolve("dst").toString());
        ExecConfig config = ExecConfig.from(p, Map.of());
        CommandValidator validator = new CommandValidator(".rtb-versions", Map.of("r",
            BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString())), config.destinations());
        ValidationResult v = validator.validate(Commands.full(".rtb-versions", "r", "v"));
        assertThat(v).isInstanceOf(ValidationResult.Rejected.class);
        assertThat(((ValidationResult.Rejected) v).reason()).contains(".rtb-versions");
        ValidationResult routed = validator.validate(Commands.base(".rtb-versions", "r", "v")
            .setRemotePrefix(".rtb-versions/x").setPaths(List.of()).setFullSync(true).build());
        assertThat(routed).isInstanceOf(ValidationResult.Rejected.class);
    }
}
