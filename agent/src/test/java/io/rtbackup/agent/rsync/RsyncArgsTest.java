package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.PasswordEnv;
import io.rtbackup.agent.config.ExecConfig.PasswordFile;
import io.rtbackup.agent.config.TransferTuning;
import io.rtbackup.agent.config.TransferTuning.Compression;
import io.rtbackup.agent.config.TransferTuning.IoPriority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connection rules every rsync invocation shares, checked on the argument lists and environments built. */
class RsyncArgsTest {
    private static final String SECRET = "pw-s3cret-" + Long.toHexString(System.nanoTime());

    @TempDir
    Path tmp;

    private Map<String, Destination> destinations() {
        Properties p = new Properties();
        p.setProperty("destination.nas.url", "rsync://backup@nas:8873/rtb/fleet");
        p.setProperty("destination.nas.timeout-s", "45");
        p.setProperty("destination.nas.acls", "true");
        p.setProperty("destination.local.url", tmp.resolve("replica").toString());
        p.setProperty("destination.local.xattrs", "true");
        return ExecConfig.from(p, Map.of("RSYNC_PASSWORD_NAS", SECRET)).destinations();
    }

    @Test
    void thePasswordGoesToTheEnvironmentAndNeverIntoTheArguments() throws Exception {
        RsyncEndpoint nas = RsyncEndpoint.of("rsync", destinations().get("nas"));
        List<String> args = RsyncArgs.to(nas).archive().filesFromStdin().mkpath().add("--stats")
            .build("/src/", "rsync://backup@nas:8873/rtb/fleet/h/r/");

        assertThat(args).noneMatch(a -> a.contains(SECRET)).noneMatch(a -> a.startsWith("--password-file"));
        assertThat(nas.environment()).containsEntry("RSYNC_PASSWORD", SECRET).containsEntry("LC_ALL", "C")
            .containsEntry("TZ", "UTC");
        assertThat(nas.toString()).doesNotContain(SECRET);
    }

    @Test
    void aPasswordFileIsReadForEachRunAndOnlyItsFirstLineCounts() throws Exception {
        Path file = Files.createFile(tmp.resolve("secret"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, "first\r\nsecond\n");
        RsyncEndpoint e = new RsyncEndpoint("rsync", true, Duration.ofSeconds(5), false, false,
            Optional.of(new PasswordFile(file)));
        assertThat(e.environment()).containsEntry("RSYNC_PASSWORD", "first");
        Files.writeString(file, "rotated\n");
        assertThat(e.environment()).containsEntry("RSYNC_PASSWORD", "rotated");
        Files.delete(file);
        assertThatThrownBy(e::environment).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void contimeoutOnlyForADaemonAndBothTimeoutsFromTheIoLimit() throws Exception {
        Map<String, Destination> d = destinations();
        List<String> daemon = RsyncArgs.to(RsyncEndpoint.of("/usr/bin/rsync", d.get("nas"))).build("/s/", "rsync://x/m/");
        List<String> local = RsyncArgs.to(RsyncEndpoint.of("/usr/bin/rsync", d.get("local"))).build("/s/", "/d/");

        assertThat(daemon).startsWith("/usr/bin/rsync").contains("--timeout=45", "--contimeout=45", "--no-motd");
        assertThat(local).startsWith("/usr/bin/rsync").contains("--timeout=60", "--no-motd")
            .noneMatch(a -> a.startsWith("--contimeout"));
        assertThat(RsyncEndpoint.of("rsync", d.get("local")).environment()).doesNotContainKey("RSYNC_PASSWORD");
    }

    @Test
    void aDaemonConnectionTurnsNaglesAlgorithmOffAndNothingElseDoes() {
        Map<String, Destination> d = destinations();
        assertThat(RsyncEndpoint.of("rsync", d.get("nas")).connectionOptions()).contains("--sockopts=TCP_NODELAY");
        assertThat(RsyncEndpoint.of("rsync", d.get("local")).connectionOptions())
            .noneMatch(a -> a.startsWith("--sockopts"));
    }

    @Test
    void aSubSecondIoLimitStillLimits() {
        // rsync reads --timeout=0 as "no limit at all"
        RsyncEndpoint e = new RsyncEndpoint("rsync", true, Duration.ofMillis(300), false, false, Optional.empty());
        assertThat(e.connectionOptions()).contains("--timeout=1", "--contimeout=1");
    }

    @Test
    void archiveCarriesTheMetadataTheDestinationStores() {
        Map<String, Destination> d = destinations();
        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", d.get("nas"))).archive().build("/s/", "/d/"))
            .contains("-a", "--numeric-ids", "-A").doesNotContain("-X");
        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", d.get("local"))).archive().build("/s/", "/d/"))
            .contains("-a", "--numeric-ids", "-X").doesNotContain("-A");
    }

    @Test
    void sourceAndDestinationComeLastAndOptionsKeepTheirOrder() {
        RsyncEndpoint e = RsyncEndpoint.of("rsync", destinations().get("local"));
        List<String> args = RsyncArgs.to(e).add("--include=/a/***", "--exclude=*").filesFromStdin().mkpath()
            .build("/src/", "/dst/");
        assertThat(args.subList(args.size() - 2, args.size())).containsExactly("/src/", "/dst/");
        assertThat(args).containsSubsequence("--include=/a/***", "--exclude=*", "--files-from=-", "--from0",
            "--mkpath");
        assertThat(RsyncArgs.to(e).add("--list-only").build("/src/")).endsWith("--list-only", "/src/");
        assertThatThrownBy(() -> args.add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void tuningBecomesBwlimitCompressionAndANiceIonicePrefixBeforeTheBinary() throws Exception {
        Properties p = new Properties();
        p.setProperty("destination.nas.url", "rsync://backup@nas:8873/rtb/fleet");
        p.setProperty("destination.nas.bwlimit", "5m");
        p.setProperty("destination.nas.compress", "zstd");
        p.setProperty("destination.nas.nice", "10");
        p.setProperty("destination.nas.ionice", "best-effort:6");
        p.setProperty("destination.auto.url", "rsync://nas/rtb");
        p.setProperty("destination.auto.compress", "auto");
        p.setProperty("destination.auto.ionice", "idle");
        p.setProperty("destination.local.url", tmp.resolve("replica").toString());
        p.setProperty("destination.local.bwlimit", "800");
        p.setProperty("destination.local.nice", "19");
        Map<String, Destination> d = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_NAS", SECRET)).destinations();

        RsyncEndpoint nas = RsyncEndpoint.of("/usr/bin/rsync", d.get("nas"));
        List<String> args = RsyncArgs.to(nas).archive().build("/s/", "rsync://backup@nas:8873/rtb/fleet/h/r/");
        assertThat(args).startsWith("nice", "-n", "10", "ionice", "-c", "2", "-n", "6", "/usr/bin/rsync")
            .contains("--bwlimit=5m", "--compress", "--compress-choice=zstd", "--contimeout=60")
            .endsWith("/s/", "rsync://backup@nas:8873/rtb/fleet/h/r/")
            .noneMatch(a -> a.contains(SECRET));
        assertThat(nas.environment()).containsEntry("RSYNC_PASSWORD", SECRET);

        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", d.get("auto"))).add("--list-only").build("rsync://nas/rtb/"))
            .startsWith("ionice", "-c", "3", "rsync").contains("--compress")
            .noneMatch(a -> a.startsWith("--compress-choice") || a.startsWith("--bwlimit") || a.equals("nice"));
        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", d.get("local"))).build("/s/", "/d/"))
            .startsWith("nice", "-n", "19", "rsync").contains("--bwlimit=800")
            .noneMatch(a -> a.startsWith("--compress") || a.equals("ionice"));
        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", destinations().get("nas"))).build("/s/", "/d/"))
            .startsWith("rsync").noneMatch(a -> a.startsWith("--compress") || a.startsWith("--bwlimit"));

        TransferTuning zstd = new TransferTuning(Optional.empty(), Compression.ZSTD, 0, IoPriority.UNCHANGED);
        assertThatThrownBy(() -> new RsyncEndpoint("rsync", false, Duration.ofSeconds(1), false, false,
            Optional.empty(), Optional.empty(), zstd)).hasMessageContaining("no compression for a local directory");
    }

    @Test
    void aLocalEndpointTakesNoPassword() {
        assertThatThrownBy(() -> new RsyncEndpoint("rsync", false, Duration.ofSeconds(1), false, false,
            Optional.of(new PasswordEnv("RSYNC_PASSWORD_X", SECRET)))).hasMessageContaining("no password");
    }

    @Test
    void anSshEndpointRunsSshWithTheDestinationsKeyAndOnlyThePinnedHostKey() throws Exception {
        Path key = Files.writeString(tmp.resolve("dc3.key"), "k");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path known = Files.writeString(tmp.resolve("dc3.known_hosts"), "[dc3]:2222 ssh-ed25519 AAAA\n");
        Properties p = new Properties();
        p.setProperty("destination.dc3.url", "ssh://rtb@dc3:2222/srv/backup");
        p.setProperty("destination.dc3.ssh-key", key.toString());
        p.setProperty("destination.dc3.known-hosts", known.toString());
        p.setProperty("destination.dc3.timeout-s", "30");
        RsyncEndpoint e = RsyncEndpoint.of("rsync", ExecConfig.from(p, Map.of()).destinations().get("dc3"));

        List<String> args = RsyncArgs.to(e).nanosecondTimes().build("/s/", "rtb@dc3:/srv/backup/h/r/");
        String rsh = args.stream().filter(a -> a.startsWith("--rsh=")).findFirst().orElseThrow();
        assertThat(rsh.substring("--rsh=".length()).split(" ")).startsWith("ssh", "-F", "none")
            .containsSubsequence("-i", key.toString())
            .contains("IdentitiesOnly=yes", "UserKnownHostsFile=" + known, "GlobalKnownHostsFile=/dev/null",
                "StrictHostKeyChecking=yes", "UpdateHostKeys=no", "BatchMode=yes", "ConnectTimeout=30")
            .containsSubsequence("-p", "2222");
        assertThat(args).contains("--timeout=30", "--remote-option=--modify-window=-1")
            .noneMatch(a -> a.startsWith("--contimeout")).doesNotContain("--modify-window=-1", "-s", "--protect-args");
        assertThat(e.environment()).containsEntry("RSYNC_OLD_ARGS", "0").containsEntry("RSYNC_PROTECT_ARGS", "0")
            .doesNotContainKey("RSYNC_PASSWORD");
        assertThat(RsyncArgs.to(RsyncEndpoint.of("rsync", destinations().get("nas"))).nanosecondTimes().build("/s/"))
            .contains("--modify-window=-1");

        RsyncResult changed = new RsyncResult(RsyncResult.Ending.EXITED, 12, new byte[0], new byte[0], 0,
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n",
            List.of("Host key verification failed."), Duration.ofSeconds(1));
        assertThat(e.problem(changed)).contains("destination 'dc3'", "differs from the one pinned in " + known,
            "destination.dc3.known-hosts", "nothing was sent", "rsync exit 12");
        RsyncResult unknown = new RsyncResult(RsyncResult.Ending.EXITED, 12, new byte[0], new byte[0], 0,
            "No ED25519 host key is known for [dc3]:2222\nHost key verification failed.\n", List.of(),
            Duration.ofSeconds(1));
        assertThat(e.problem(unknown)).contains("no host key of dc3 port 2222 is pinned in " + known);
        RsyncResult other = new RsyncResult(RsyncResult.Ending.EXITED, 23, new byte[0], new byte[0], 0, "x\n", List.of("x"),
            Duration.ofSeconds(1));
        assertThat(e.problem(other)).isEqualTo(other.problem());
        RsyncResult refused = new RsyncResult(RsyncResult.Ending.EXITED, 255, new byte[0], new byte[0], 0,
            "rtb@dc3: Permission denied (publickey).\n", List.of(), Duration.ofSeconds(1));
        assertThat(e.problem(refused)).contains("refused the key " + key, "destination.dc3.ssh-key",
            "authorized_keys of rtb");
    }
}
