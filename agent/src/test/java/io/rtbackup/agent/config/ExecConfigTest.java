package io.rtbackup.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.PasswordEnv;
import io.rtbackup.agent.config.ExecConfig.PasswordFile;
import io.rtbackup.agent.config.ExecConfig.SshTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecConfigTest {
    /** rsync password files must be readable by their owner only. */
    static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    @TempDir
    Path tmp;

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void readsDaemonAndLocalDestinations() throws Exception {
        Path pw = Files.writeString(Files.createFile(tmp.resolve("pw"), OWNER_ONLY), "s3cret\nignored\n");
        ExecConfig c = ExecConfig.from(props(
            "destination.dc2.url", "rsync://backup@dc2.example:8730/rtb/fleet/a",
            "destination.dc2.password-file", pw.toString(),
            "destination.dc2.max-concurrent", "4",
            "destination.dc2.timeout-s", "30",
            "destination.dc2.command-timeout-s", "90",
            "destination.dc2.acls", "true",
            "destination.dc2.xattrs", "yes",
            "destination.dc3.url", "rsync://10.0.0.3/mod",
            "destination.local.url", "/srv/replica/",
            "exec.command-max-age-s", "60"), Map.of("RSYNC_PASSWORD_DC3", "envpw"));

        Destination dc2 = c.destinations().get("dc2");
        assertThat(dc2.target()).isEqualTo(new DaemonTarget(Optional.of("backup"), "dc2.example", 8730, "rtb", "fleet/a"));
        assertThat(dc2.target().argument("h/r")).isEqualTo("rsync://backup@dc2.example:8730/rtb/fleet/a/h/r/");
        assertThat(dc2.password()).containsInstanceOf(PasswordFile.class);
        assertThat(dc2.password().orElseThrow().secret()).isEqualTo("s3cret");
        assertThat(dc2.maxConcurrent()).isEqualTo(4);
        assertThat(dc2.ioTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(dc2.commandTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(dc2.acls()).isTrue();
        assertThat(dc2.xattrs()).isTrue();

        Destination dc3 = c.destinations().get("dc3");
        assertThat(dc3.target().argument("h/r")).isEqualTo("rsync://10.0.0.3:873/mod/h/r/");
        assertThat(dc3.password()).containsInstanceOf(PasswordEnv.class);
        assertThat(dc3.password().orElseThrow().secret()).isEqualTo("envpw");
        assertThat(dc3.password().orElseThrow().toString()).doesNotContain("envpw");
        assertThat(dc3.maxConcurrent()).isEqualTo(ExecConfig.DEFAULT_MAX_CONCURRENT);

        assertThat(c.destinations().get("local").target()).isEqualTo(new LocalTarget("/srv/replica"));
        assertThat(c.destinations().get("local").target().argument("h/r")).isEqualTo("/srv/replica/h/r/");
        assertThat(c.commandMaxAge()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.rsyncPath()).isEqualTo("rsync");
    }

    @Test
    void errorsNameTheKeyAndWhatToDo() {
        assertError(props("destination.x.url", "ftp://host/x"), "destination.x.url", "rsync://");
        assertError(props("destination.x.url", "relative/dir"), "destination.x.url", "absolute");
        assertError(props("destination.x.url", "rsync://host"), "destination.x.url", "module");
        assertError(props("destination.x.url", "rsync://host:99999/m"), "destination.x.url", "port");
        assertError(props("destination.x.url", "rsync://host/m/../up"), "destination.x.url", "'..'");
        assertError(props("destination.x.url", "rsync://host/m/my backups"), "destination.x.url", "contains a space");
        assertError(props("destination.-x.url", "/a"), "destination.-x.url", "starts with '-'");
        assertError(props("destination.a b.url", "/a"), "destination.a b.url", "contains a space");
        assertError(props("destination." + "d".repeat(65) + ".url", "/a"), "destination." + "d".repeat(65) + ".url",
            "1-64 characters");
        assertError(props("destination.x.urll", "/a"), "destination.x.urll", "unknown setting");
        assertError(props("destination.x.max-concurrent", "0", "destination.x.url", "/a"),
            "destination.x.max-concurrent", "positive");
        assertError(props("destination.x.acls", "maybe", "destination.x.url", "/a"), "destination.x.acls", "true or false");
        assertError(props("destination.x.timeout-s", "1"), "destination.x.url", "missing");
        assertError(props("destination.x.url", "rsync://h/m", "destination.x.password-file", "/nonexistent/pw"),
            "destination.x.password-file", "RSYNC_PASSWORD_X");
        assertError(props("rsync.path", "/nonexistent/rsync"), "rsync.path", "install rsync");
        assertError(props("rsync.path", "no-such-rsync-binary"), "rsync.path", "PATH");
        assertError(props("destination.bad.name.url", "/a"), "destination.bad.name.url", "destination.<name>.<setting>");
    }

    @Test
    void aPasswordFileOthersCanReadIsRefusedAtStartAndAtEveryRead() throws Exception {
        Path open = Files.writeString(Files.createFile(tmp.resolve("open"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----"))), "pw\n");
        assertError(props("destination.x.url", "rsync://h/m", "destination.x.password-file", open.toString()),
            "destination.x.password-file", "chmod 600 " + open);
        Path pw = Files.writeString(Files.createFile(tmp.resolve("pw"), OWNER_ONLY), "pw\n");
        ExecConfig c = ExecConfig.from(props("destination.x.url", "rsync://h/m",
            "destination.x.password-file", pw.toString()), Map.of());
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw----r--")); // opened while running
        assertThatThrownBy(() -> c.destinations().get("x").password().orElseThrow().secret())
            .isInstanceOf(java.io.IOException.class).hasMessageContaining("group or others");
    }

    @Test
    void unpatchedRsyncIsRefusedUnlessTheOperatorSaysOtherwise() {
        assertThat(ExecConfig.from(props(), Map.of()).allowUnpatchedRsync()).isFalse();
        assertThat(ExecConfig.from(props("rsync.allow-unpatched", "true"), Map.of()).allowUnpatchedRsync()).isTrue();
        assertError(props("rsync.allow-unpatched", "maybe"), "rsync.allow-unpatched", "not true or false");
    }

    @Test
    void passwordVariableNameIsDerivedFromTheDestinationName() {
        assertThat(ExecConfig.passwordVariable("dc-2_east")).isEqualTo("RSYNC_PASSWORD_DC_2_EAST");
    }

    private static void assertError(Properties p, String key, String hint) {
        assertThatThrownBy(() -> ExecConfig.from(p, Map.of()))
            .isInstanceOf(ConfigException.class)
            .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key))
            .hasMessageContaining(hint);
    }

    @Test
    void keptVersionsAreOffByDefaultAndReadWithRetention() {
        ExecConfig c = ExecConfig.from(props(
            "destination.plain.url", "/srv/a",
            "destination.kept.url", "/srv/b",
            "destination.kept.keep-versions", "true",
            "destination.kept.versions-keep-days", "7",
            "destination.kept.versions-keep", "100",
            "destination.forever.url", "/srv/c",
            "destination.forever.keep-versions", "on",
            "destination.forever.versions-keep-days", "0"), Map.of());
        assertThat(c.destinations().get("plain").versions().keep()).isFalse();
        assertThat(c.destinations().get("kept").versions()).isEqualTo(new ExecConfig.Versions(true, 7, 100));
        assertThat(c.destinations().get("kept").versions().maxAge()).contains(Duration.ofDays(7));
        assertThat(c.destinations().get("forever").versions()).isEqualTo(new ExecConfig.Versions(true, 0, 0));
        assertThat(c.destinations().get("forever").versions().maxAge()).isEmpty();
        ExecConfig dflt = ExecConfig.from(props("destination.d.url", "/srv/d", "destination.d.keep-versions", "yes"),
            Map.of());
        assertThat(dflt.destinations().get("d").versions()).isEqualTo(new ExecConfig.Versions(true, 30, 0));
    }

    @Test
    void keptVersionErrorsNameTheKey() {
        assertThatThrownBy(() -> ExecConfig.from(props("destination.d.url", "/srv/d",
            "destination.d.keep-versions", "maybe"), Map.of()))
            .hasMessageContaining("destination.d.keep-versions").hasMessageContaining("not true or false");
        assertThatThrownBy(() -> ExecConfig.from(props("destination.d.url", "/srv/d",
            "destination.d.keep-versions", "true", "destination.d.versions-keep-days", "-1"), Map.of()))
            .hasMessageContaining("destination.d.versions-keep-days").hasMessageContaining(">= 0");
        assertThatThrownBy(() -> ExecConfig.from(props("destination.d.url", "/srv/d",
            "destination.d.keep-versions", "true", "destination.d.versions-keep", "ten"), Map.of()))
            .hasMessageContaining("destination.d.versions-keep").hasMessageContaining("'ten'");
        assertThatThrownBy(() -> ExecConfig.from(props("destination.d.url", "/srv/d",
            "destination.d.versions-keep", "3"), Map.of()))
            .hasMessageContaining("destination.d.versions-keep")
            .hasMessageContaining("keep-versions is off");
    }

    @Test
    void pruneIntervalDefaultsToAnHourAndMustBePositive() {
        assertThat(ExecConfig.from(props(), Map.of()).versionsPruneInterval()).isEqualTo(Duration.ofHours(1));
        assertThat(ExecConfig.from(props("exec.versions-prune-interval-s", "600"), Map.of()).versionsPruneInterval())
            .isEqualTo(Duration.ofMinutes(10));
        assertThatThrownBy(() -> ExecConfig.from(props("exec.versions-prune-interval-s", "0"), Map.of()))
            .hasMessageContaining("exec.versions-prune-interval-s").hasMessageContaining("positive");
    }

    /** A private key and a known_hosts file as an ssh destination needs them. */
    private Path[] sshFiles() throws Exception {
        Path key = Files.writeString(tmp.resolve("dc3.key"), "not checked here\n");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path known = Files.writeString(tmp.resolve("dc3.known_hosts"), "[dc3]:2222 ssh-ed25519 AAAA\n");
        return new Path[] {key, known};
    }

    @Test
    void readsAnSshDestination() throws Exception {
        Path[] f = sshFiles();
        ExecConfig c = ExecConfig.from(props(
            "destination.dc3.url", "ssh://rtb@dc3.example:2222/srv/backup/",
            "destination.dc3.ssh-key", f[0].toString(),
            "destination.dc3.known-hosts", f[1].toString(),
            "destination.v6.url", "ssh://[fd00::3]/",
            "destination.v6.ssh-key", f[0].toString(),
            "destination.v6.known-hosts", f[1].toString()), Map.of());
        Destination dc3 = c.destinations().get("dc3");
        assertThat(dc3.target()).isEqualTo(new SshTarget(Optional.of("rtb"), "dc3.example", 2222, "/srv/backup",
            f[0], f[1]));
        assertThat(dc3.target().argument("h/r")).isEqualTo("rtb@dc3.example:/srv/backup/h/r/");
        assertThat(dc3.target().argument("")).isEqualTo("rtb@dc3.example:/srv/backup/");
        assertThat(dc3.target().toString()).isEqualTo("ssh://rtb@dc3.example:2222/srv/backup");
        assertThat(dc3.password()).isEmpty();
        ExecConfig.SshTarget v6 = (ExecConfig.SshTarget) c.destinations().get("v6").target();
        assertThat(v6.port()).isEqualTo(22);
        assertThat(v6.argument("h/r")).isEqualTo("[fd00::3]:/h/r/");
    }

    @Test
    void sshErrorsNameTheKeyAndWhatToDo() throws Exception {
        Path[] f = sshFiles();
        String key = f[0].toString();
        String known = f[1].toString();
        assertError(props("destination.x.url", "ssh://-oProxyCommand=x/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.url", "ssh://[user@]host");
        assertError(props("destination.x.url", "ssh://-l@h/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.url", "not starting with '-'");
        assertError(props("destination.x.url", "ssh://h/srv/../etc", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.url", "'..'");
        assertError(props("destination.x.url", "ssh://h/my backups", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.url", "contains a space");
        assertError(props("destination.x.url", "ssh://h:0/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.url", "port");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.known-hosts", known),
            "destination.x.ssh-key", "ssh-keygen");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", key),
            "destination.x.known-hosts", "ssh-keyscan");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", "relative.key",
            "destination.x.known-hosts", known), "destination.x.ssh-key", "absolute path");
        Path spaced = Files.writeString(tmp.resolve("my key"), "k");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", spaced.toString(),
            "destination.x.known-hosts", known), "destination.x.ssh-key", "absolute path of");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", tmp.resolve("%h").toString()), "destination.x.known-hosts", "absolute path of");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", tmp.resolve("missing").toString()), "destination.x.known-hosts", "cannot read");
        Files.setPosixFilePermissions(f[0], java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known), "destination.x.ssh-key", "chmod 600 " + key);
        Files.setPosixFilePermissions(f[0], java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertError(props("destination.x.url", "rsync://h/m", "destination.x.ssh-key", key), "destination.x.ssh-key",
            "only an ssh:// destination");
        assertError(props("destination.x.url", "/srv/x", "destination.x.known-hosts", known),
            "destination.x.known-hosts", "only an ssh:// destination");
        Path pw = Files.writeString(Files.createFile(tmp.resolve("pw"), OWNER_ONLY), "s3cret\n");
        assertError(props("destination.x.url", "ssh://h/p", "destination.x.ssh-key", key,
            "destination.x.known-hosts", known, "destination.x.password-file", pw.toString()),
            "destination.x.password-file", "reached over ssh");
    }
}
