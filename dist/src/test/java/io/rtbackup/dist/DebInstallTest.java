package io.rtbackup.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The .deb on a fresh Debian 12: installed with apt (which brings its declared dependencies, rsync) into a
 * debootstrapped bookworm root, where the installed rtb reports its version, systemd accepts its units, and
 * {@code rtb up} backs up a folder with the bundled runtime alone (the root has no JDK).
 */
@Timeout(value = 45, unit = TimeUnit.MINUTES)
class DebInstallTest {
    static final Duration APT = Duration.ofMinutes(10);
    static final Duration SHORT = Duration.ofMinutes(2);

    @Test
    void installsIntoFreshBookwormAndBacksUpAFolder() throws Exception {
        Path deb = Dist.deb();
        long t0 = System.nanoTime();
        Path base = DebianBase.cached(DebianBase.defaultCacheDir());
        Chroot root = DebianBase.freshCopy(base, Dist.dir().resolve("install-root"));
        Dist.note("install test: Debian root ready after %d s", seconds(t0));

        Files.copy(deb, root.path("/tmp/" + deb.getFileName()));
        root.ok(APT, "apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/" + deb.getFileName());
        assertThat(root.ok(SHORT, "dpkg-query -W -f '${Status}' rsync")).isEqualTo("install ok installed");
        assertThat(root.run(SHORT, "command -v java").exitCode()).as("no JDK in the root: rtb brings its own").isNotZero();

        assertThat(root.ok(SHORT, "rtb --version").strip()).startsWith("rtb " + Dist.version() + " (commit ");
        assertThat(root.ok(SHORT, "dpkg-query -W -f '${Conffiles}' rtbackup"))
            .contains("/etc/rtbackup/agent.properties", "/etc/rtbackup/worker.properties");
        assertThat(root.ok(SHORT, "getent passwd rtbackup")).as("the agent unit's User=").contains("/usr/sbin/nologin");
        // postinst made the agent's class-data archive where its unit looks (CACHE_DIRECTORY), accepted by the runtime
        String archive = root.ok(SHORT, "ls /var/cache/rtbackup-agent/").strip();
        assertThat(archive).as("postinst's class-data archive").matches("agent-[0-9]+\\.jsa");
        root.ok(SHORT, "cp=$(sed 's#^#/usr/lib/rtbackup/lib/#' /usr/lib/rtbackup/lib/classpath | paste -sd:) && "
            + "/usr/lib/rtbackup/runtime/bin/java -Xshare:on -XX:+UseSerialGC -XX:SharedArchiveFile="
            + "/var/cache/rtbackup-agent/" + archive + " -cp \"$cp\" io.rtbackup.cli.Rtb --version");

        // systemd checks the units' settings, that ExecStart's /usr/bin/rtb exists and that their man pages are there
        root.ok(SHORT, "systemd-analyze verify /lib/systemd/system/rtbackup-agent.service "
            + "/lib/systemd/system/rtbackup-worker.service /lib/systemd/system/rtbackup-broker.service");
        root.ok(SHORT, "mkdir -p /run/user/0 && XDG_RUNTIME_DIR=/run/user/0 "
            + "systemd-analyze --user verify /usr/lib/systemd/user/rtbackup-up.service");
        assertThat(root.ok(SHORT, "bash -c '. /usr/share/bash-completion/completions/rtb && complete -p rtb'"))
            .contains("rtb");

        backUpAFolder(root);

        // removal runs prerm/postrm; the configs stay until purge
        root.ok(APT, "apt-get remove -y -q rtbackup");
        assertThat(root.path("/usr/bin/rtb")).doesNotExist();
        assertThat(root.ok(SHORT, "ls /var/cache/rtbackup-agent/").strip()).as("postrm removed the archive").isEmpty();
        assertThat(root.path("/etc/rtbackup/agent.properties")).exists();
        root.ok(APT, "dpkg --purge rtbackup");
        assertThat(root.path("/etc/rtbackup/agent.properties")).doesNotExist();
        Dist.note("install test: done after %d s", seconds(t0));
        DebianBase.remove(root.root());
    }

    private static void backUpAFolder(Chroot root) throws IOException, InterruptedException {
        Files.createDirectories(root.path("/srv/src/docs"));
        Files.writeString(root.path("/srv/src/docs/before.txt"), "written before rtb up started\n");
        Path log = Dist.dir().resolve("install-rtb-up.log");
        long start = System.nanoTime();
        Process up = root.start("exec rtb up --source /srv/src --dest /srv/backup --state-dir /var/lib/rtb-up", log);
        try {
            awaitTrue(Duration.ofMinutes(4), up, log, () -> Files.readString(log).contains("replicating changes live"));
            Dist.note("install test: rtb up started (start -> 'replicating changes live') in %d ms",
                (System.nanoTime() - start) / 1_000_000);
            assertThat(find(root.path("/srv/backup"), "before.txt")).as("initial sync").isPresent();

            Files.writeString(root.path("/srv/src/docs/after.txt"), "written while rtb up ran\n");
            long written = System.nanoTime();
            awaitTrue(Duration.ofMinutes(2), up, log, () -> find(root.path("/srv/backup"), "after.txt").isPresent());
            Dist.note("install test: a new file reached the destination in %d ms", (System.nanoTime() - written) / 1_000_000);
            Path copy = find(root.path("/srv/backup"), "after.txt").orElseThrow();
            assertThat(Files.readString(copy)).isEqualTo("written while rtb up ran\n");
        } finally {
            up.destroy();
            if (!up.waitFor(30, TimeUnit.SECONDS)) up.destroyForcibly().waitFor();
        }
    }

    interface Check {
        boolean holds() throws IOException;
    }

    private static void awaitTrue(Duration limit, Process up, Path log, Check check) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!check.holds()) {
            if (!up.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError((up.isAlive() ? "still waiting after " + limit : "rtb up exited " + up.exitValue())
                    + "; its output:\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
        }
    }

    private static Optional<Path> find(Path dir, String name) throws IOException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().equals(name) && Files.isRegularFile(f)).findFirst();
        }
    }

    private static long seconds(long since) {
        return (System.nanoTime() - since) / 1_000_000_000L;
    }
}
