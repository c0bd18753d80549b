package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.rsync.RsyncResult.Ending;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes: rsync itself for the file list, a shell where a behaviour is easier to provoke with one. */
class RsyncLauncherTest {
    @TempDir
    Path tmp;

    private final RsyncLauncher launcher = new RsyncLauncher();

    private RsyncResult sh(String script, Duration timeout, int stdoutLimit) throws Exception {
        return launcher.run("test", List.of("sh", "-c", script), Map.of("RSYNC_PASSWORD", "pw"), RsyncStdin.NONE,
            timeout, stdoutLimit);
    }

    @Test
    void aFileListOnStdinReachesRsyncByteExactlyIncludingCommentLikeNames() throws Exception {
        byte[] src = BytePaths.utf8(Files.createDirectories(tmp.resolve("src")).toString());
        List<byte[]> names = List.of(BytePaths.utf8("#hash"), BytePaths.utf8(";semi"),
            new byte[] {'n', '\n', 'l', (byte) 0xff}, BytePaths.utf8("plain"));
        for (byte[] n : names) ByteFs.write(BytePaths.join(src, n), n);
        ByteFs.write(BytePaths.join(src, BytePaths.utf8("not-listed")), BytePaths.utf8("x"));
        RsyncEndpoint local = new RsyncEndpoint("rsync", false, Duration.ofSeconds(10), false, false, Optional.empty());
        String dst = tmp.resolve("dst") + "/";
        List<String> args = RsyncArgs.to(local).archive().filesFromStdin().mkpath().add("--stats")
            .build(BytePaths.show(src) + "/", dst);

        RsyncResult r = launcher.run("test", args, local.environment(), new RsyncStdin.FileList(names),
            Duration.ofSeconds(30), RsyncLauncher.ALL_OUTPUT);

        assertThat(r.ok()).as(r.problem()).isTrue();
        assertThat(r.stats().filesTransferred()).isEqualTo(4);
        for (byte[] n : names) {
            assertThat(ByteFs.readAll(BytePaths.join(BytePaths.utf8(dst), n))).isEqualTo(n);
        }
        assertThat(Files.exists(tmp.resolve("dst/not-listed"))).isFalse();
    }

    @Test
    void aLowPriorityRunGoesAtNiceness19InTheIdleIoClassAndStillSeesItsEnvironment() throws Exception {
        RsyncResult r = launcher.run("test", List.of("sh", "-c",
                "cut -d' ' -f19 /proc/self/stat; ionice; printf %s \"$RSYNC_PASSWORD\""), Map.of("RSYNC_PASSWORD",
                "pw"), RsyncStdin.NONE, Duration.ofSeconds(10), RsyncLauncher.ALL_OUTPUT, RsyncPriority.LOW);

        assertThat(r.ok()).as(r.problem()).isTrue();
        assertThat(r.stdoutText()).isEqualTo("19\nidle\npw");
        RsyncResult normal = launcher.run("test", List.of("sh", "-c", "cut -d' ' -f19 /proc/self/stat"), Map.of(),
            RsyncStdin.NONE, Duration.ofSeconds(10), RsyncLauncher.ALL_OUTPUT, RsyncPriority.NORMAL);
        assertThat(normal.stdoutText().trim()).isNotEqualTo("19");
    }

    @Test
    void theEnvironmentEntriesReachTheChild() throws Exception {
        RsyncResult r = sh("printf %s \"$RSYNC_PASSWORD\"", Duration.ofSeconds(10), RsyncLauncher.ALL_OUTPUT);
        assertThat(r.stdoutText()).isEqualTo("pw");
    }

    @Test
    void stderrKeepsItsBeginningAndItsLastLinesForTheMessage() throws Exception {
        RsyncResult r = sh("for i in $(seq 1 20); do echo line$i >&2; echo >&2; done; exit 23", Duration.ofSeconds(10),
            RsyncLauncher.ALL_OUTPUT);
        assertThat(r.ending()).isEqualTo(Ending.EXITED);
        assertThat(r.exitCode()).isEqualTo(23);
        assertThat(r.ok()).isFalse();
        assertThat(r.stderr()).startsWith("line1\n\nline2\n").contains("line20");
        assertThat(r.stderrTail()).hasSize(RsyncLauncher.STDERR_TAIL_LINES).startsWith("line13").endsWith("line20");
        assertThat(r.problem()).isEqualTo("rsync exit 23 (partial transfer due to error): line13 | line14 | line15 | "
            + "line16 | line17 | line18 | line19 | line20");
    }

    @Test
    void stdoutIsCutAtTheLimitWithoutBlockingTheChild() throws Exception {
        RsyncResult r = sh("head -c 1000000 /dev/zero", Duration.ofSeconds(10), 1000);
        assertThat(r.ok()).isTrue();
        assertThat(r.stdout()).hasSize(1000);
    }

    @Test
    void deletionLinesAndTheSummaryAreReadPastTheStdoutLimit() throws Exception {
        // 3.2.7's client prints each deletion a daemon made but sums them up as 0; lines that merely contain
        // "deleting " do not count
        RsyncResult r = sh("i=0; while [ $i -lt 30000 ]; do echo \"deleting dir/f$i\"; i=$((i+1)); done; "
            + "echo 'xdeleting no'; echo ' deleting no'; echo 'deletin'; printf '\\nNumber of deleted files: 0\\n"
            + "Total bytes sent: 77\\n'", Duration.ofSeconds(30), 1000);
        assertThat(r.stdout()).hasSize(1000);
        assertThat(r.deletionLines()).isEqualTo(30000);
        assertThat(r.stats().filesDeleted()).isEqualTo(30000);
        assertThat(r.stats().bytesSent()).isEqualTo(77);
    }

    @Test
    void aProcessPastItsLimitIsKilledWithEverythingItForked() throws Exception {
        String marker = "rtb-launcher-test-" + System.nanoTime();
        RsyncResult r = sh("sleep 30 & sleep 31; echo " + marker, Duration.ofMillis(300), RsyncLauncher.ALL_OUTPUT);
        assertThat(r.ending()).isEqualTo(Ending.TIMED_OUT);
        assertThat(r.exitCode()).isEqualTo(-1);
        assertThat(r.problem()).startsWith("rsync did not finish within 0 s; killed");
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
            .filter(h -> h.info().command().map(c -> c.endsWith("sleep")).orElse(false))).as("sleeps left").isEmpty();
    }

    @Test
    void aClosedLauncherStartsNothing() throws Exception {
        launcher.close();
        Path marker = tmp.resolve("ran");
        RsyncResult r = sh("touch " + marker, Duration.ofSeconds(10), RsyncLauncher.ALL_OUTPUT);
        assertThat(r.ending()).isEqualTo(Ending.INTERRUPTED);
        assertThat(Files.exists(marker)).isFalse();
    }

    @Test
    void stdoutIsReadAsBytes() throws Exception {
        RsyncResult r = sh("printf '\\377\\000a'", Duration.ofSeconds(10), RsyncLauncher.ALL_OUTPUT);
        assertThat(r.stdout()).containsExactly(0xff, 0, 'a');
        assertThat(r.stdoutText()).isEqualTo(new String(new byte[] {(byte) 0xff, 0, 'a'}, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aChildSeesOnlyItsOwnDestinationsPasswordNoneOfTheAgents() throws Exception {
        // The agent's environment holds every destination's password; a destination's run takes only its own.
        Map<String, String> agentEnv = Map.of("PATH", System.getenv("PATH"), "RSYNC_PASSWORD_DC2", "dc2-secret",
            "RSYNC_PASSWORD_DC3", "dc3-secret", "RSYNC_PASSWORD", "stray-secret", "HOME", "/home/rtb");
        io.rtbackup.agent.config.ExecConfig config = io.rtbackup.agent.config.ExecConfig.from(props(
            "rsync.path", fakeRsync().toString(), "destination.dc2.url", "rsync://h/m",
            "destination.dc3.url", "rsync://h3/m"), agentEnv);
        RsyncEndpoint dc2 = RsyncEndpoint.of(config.rsyncPath(), config.destinations().get("dc2"));

        try (RsyncLauncher agentLauncher = new RsyncLauncher(agentEnv)) {
            RsyncResult r = agentLauncher.run("test", List.of(config.rsyncPath(), "-a", "src/", "rsync://h/m/"),
                dc2.environment(), RsyncStdin.NONE, Duration.ofSeconds(30), RsyncLauncher.ALL_OUTPUT);
            assertThat(r.ok()).as(r.problem()).isTrue();
            List<String> env = r.stdoutText().lines().toList();
            assertThat(env).filteredOn(l -> l.contains("RSYNC_PASSWORD")).containsExactly("RSYNC_PASSWORD=dc2-secret");
            assertThat(r.stdoutText()).doesNotContain("dc3-secret", "stray-secret");
            assertThat(env).contains("HOME=/home/rtb", "LC_ALL=C", "TZ=UTC"); // the rest is inherited as it was
        }
    }

    /** A stand-in for rsync that prints the environment it was given, one variable a line. */
    private Path fakeRsync() throws Exception {
        Path script = tmp.resolve("fake-rsync");
        Files.writeString(script, "#!/bin/sh\nexec env\n");
        script.toFile().setExecutable(true);
        return script;
    }

    private static java.util.Properties props(String... kv) {
        java.util.Properties p = new java.util.Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }
}
