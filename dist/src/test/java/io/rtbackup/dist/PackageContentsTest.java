package io.rtbackup.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the .deb and the tarball hold, read with dpkg-deb and tar, and the tarball's rtb run through symlinks. */
class PackageContentsTest {
    static final Duration LIMIT = Duration.ofMinutes(2);

    static Map<String, String> debEntries() {
        // "drwxr-xr-x root/root 0 2026-01-01 00:00 ./usr/bin/rtb -> ../lib/rtbackup/bin/rtb"
        return Arrays.stream(Exec.ok(LIMIT, null, "dpkg-deb", "--contents", Dist.deb().toString()).split("\n"))
            .collect(Collectors.toMap(line -> line.substring(line.indexOf(" ./") + 2).split(" -> ")[0].replaceFirst("/$", ""),
                Function.identity(), (a, b) -> a));
    }

    @Test
    void controlDeclaresTheRuntimeDependenciesAndTheConfigsAsConffiles(@TempDir Path tmp) throws IOException {
        String deb = Dist.deb().toString();
        assertThat(Exec.ok(LIMIT, null, "dpkg-deb", "--field", deb, "Package").strip()).isEqualTo("rtbackup");
        assertThat(Exec.ok(LIMIT, null, "dpkg-deb", "--field", deb, "Version").strip()).isEqualTo(Dist.debVersion());
        assertThat(Exec.ok(LIMIT, null, "dpkg-deb", "--field", deb, "Architecture").strip()).isEqualTo("amd64");
        assertThat(Exec.ok(LIMIT, null, "dpkg-deb", "--field", deb, "Depends")).contains("rsync");
        assertThat(Exec.ok(LIMIT, null, "dpkg-deb", "--field", deb, "Recommends").strip()).isEqualTo("dkms");

        Exec.ok(LIMIT, null, "dpkg-deb", "--control", deb, tmp.toString());
        assertThat(Files.readAllLines(tmp.resolve("conffiles")))
            .containsExactly("/etc/rtbackup/agent.properties", "/etc/rtbackup/worker.properties");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertThat(tmp.resolve(script)).isExecutable();
            // conservative maintainer scripts: nothing is enabled or started behind the administrator's back
            assertThat(Files.readString(tmp.resolve(script))).as(script)
                .doesNotContain("systemctl enable").doesNotContain("systemctl start").doesNotContain("@VERSION@");
        }
    }

    @Test
    void debPlacesRuntimeLauncherUnitsConfigsModuleSourceCompletionAndManPages() {
        Map<String, String> entries = debEntries();
        assertThat(entries.get("/usr/bin/rtb")).as("a relative link to the launcher")
            .endsWith("/usr/bin/rtb -> ../lib/rtbackup/bin/rtb").startsWith("l");
        assertThat(entries).containsKeys("/usr/lib/rtbackup/bin/rtb", "/usr/lib/rtbackup/runtime/bin/java",
            "/usr/lib/rtbackup/lib/classpath", "/usr/lib/rtbackup/agent.options", "/usr/lib/rtbackup/up.options",
            "/lib/systemd/system/rtbackup-agent.service", "/lib/systemd/system/rtbackup-worker.service",
            "/lib/systemd/system/rtbackup-broker.service", "/usr/lib/systemd/user/rtbackup-up.service",
            "/etc/rtbackup/agent.properties", "/etc/rtbackup/worker.properties",
            "/usr/src/rtbackup-" + Dist.debVersion() + "/dkms.conf",
            "/usr/src/rtbackup-" + Dist.debVersion() + "/rtb_main.c",
            "/usr/src/rtbackup-" + Dist.debVersion() + "/Kbuild",
            "/usr/share/bash-completion/completions/rtb",
            "/usr/share/man/man1/rtb.1.gz", "/usr/share/man/man1/rtb-up.1.gz", "/usr/share/man/man1/rtb-agent.1.gz",
            "/usr/share/man/man1/rtb-broker.1.gz", "/usr/share/doc/rtbackup/copyright",
            "/usr/share/doc/rtbackup/examples/up.args",
            "/usr/share/rtbackup/monitoring/rtbackup-dashboard.json", "/usr/share/rtbackup/monitoring/rtbackup-alerts.yml");
        assertThat(entries.get("/usr/lib/rtbackup/bin/rtb")).startsWith("-rwxr-xr-x root/root");
        assertThat(entries.keySet()).as("no JDK development files in the runtime")
            .noneMatch(p -> p.startsWith("/usr/lib/rtbackup/runtime/include") || p.endsWith("/bin/javac"));
    }

    @Test
    void tarballRunsThroughAChainOfSymlinksWithItsOwnRuntime(@TempDir Path tmp) throws IOException, InterruptedException {
        Exec.ok(LIMIT, null, "tar", "-xzf", Dist.tarball().toString(), "-C", tmp.toString());
        Path home = tmp.resolve("rtbackup-" + Dist.version());
        assertThat(home.resolve("kmod/dkms.conf")).content().contains("PACKAGE_VERSION=\"" + Dist.debVersion() + "\"");
        assertThat(home.resolve("systemd/user/rtbackup-up.service")).exists();
        assertThat(home.resolve("LICENSE")).exists();
        for (String file : List.of("rtbackup-dashboard.json", "rtbackup-alerts.yml")) {
            assertThat(home.resolve("share/rtbackup/monitoring/" + file)).as("the shipped monitoring files")
                .hasSameTextualContentAs(Path.of(System.getProperty("rtb.repo.root"), "packaging/monitoring", file));
        }

        // at least the jars ./rtb runs the CLI with (cli/target/rtb.classpath) and the CLI's own (the package also
        // has what cli's test-scope declarations hide from ./rtb, such as snakeyaml for Kafka's jackson-yaml)
        Path checkoutClasspath = Path.of(System.getProperty("rtb.repo.root"), "cli/target/rtb.classpath");
        List<String> expected = new ArrayList<>(List.of("rtbackup-cli-" + Dist.version() + ".jar"));
        Arrays.stream(Files.readString(checkoutClasspath).strip().split(":"))
            .map(jar -> Path.of(jar).getFileName().toString()).forEach(expected::add);
        List<String> classpath = Files.readAllLines(home.resolve("lib/classpath"));
        assertThat(classpath).containsAll(expected).doesNotHaveDuplicates();
        try (var jars = Files.list(home.resolve("lib"))) {
            assertThat(jars.map(j -> j.getFileName().toString()).filter(n -> n.endsWith(".jar")))
                .as("lib/ holds the class path's jars").containsExactlyInAnyOrderElementsOf(classpath);
        }

        // ~/bin/rtb -> /opt/rtb -> rtbackup-<version>/bin/rtb, run with nothing of Java on PATH
        Path opt = Files.createSymbolicLink(tmp.resolve("opt-rtb"), home.resolve("bin/rtb"));
        Files.createDirectories(tmp.resolve("bin"));
        Path link = Files.createSymbolicLink(tmp.resolve("bin/rtb"), Path.of("../opt-rtb"));
        assertThat(opt).isSymbolicLink();
        Exec version = Exec.run(LIMIT, tmp, List.of("env", "-i", "PATH=/usr/bin:/bin", link.toString(), "--version"));
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output().strip()).startsWith("rtb " + Dist.version() + " (commit ");

        // the agent's JVM options (agent.options) are read from the tree and accepted by its runtime
        Exec agentHelp = Exec.run(LIMIT, tmp, List.of(link.toString(), "agent", "--help"));
        assertThat(agentHelp.exitCode()).as(agentHelp.output()).isZero();
        assertThat(agentHelp.output()).contains("--config");
        // and so are rtb up's (up.options)
        Exec upHelp = Exec.run(LIMIT, tmp, List.of(link.toString(), "up", "--help"));
        assertThat(upHelp.exitCode()).as(upHelp.output()).isZero();
        assertThat(upHelp.output()).contains("--source");

        // the class-data archive the launcher makes for `rtb agent` (cds-archive, from agent.classlist) is made by the
        // bundled runtime where the jars are, and accepted by it (-Xshare:on refuses to start otherwise)
        String cp = Files.readAllLines(home.resolve("lib/classpath")).stream()
            .map(jar -> home.resolve("lib").resolve(jar).toString()).collect(Collectors.joining(":"));
        String java = home.resolve("runtime/bin/java").toString();
        Exec archive = Exec.run(LIMIT, tmp, List.of("env", "RTB_CDS_DIR=" + tmp.resolve("cds"),
            home.resolve("cds-archive").toString(), "--wait", "agent", home.resolve("agent.classlist").toString(), java,
            cp, "-XX:+UseSerialGC"));
        assertThat(archive.exitCode()).as(archive.output()).isZero();
        String option = archive.output().strip();
        assertThat(option).startsWith("-XX:SharedArchiveFile=" + tmp.resolve("cds"));
        Exec shared = Exec.run(LIMIT, tmp, List.of(java, "-Xshare:on", "-XX:+UseSerialGC", option, "-cp", cp,
            "io.rtbackup.cli.Rtb", "--version"));
        assertThat(shared.exitCode()).as(shared.output()).isZero();

        // a start without an archive makes it in the background and does not wait for it: the launcher reads this
        // script's output, so a dump that kept the output open would hold the start until it ends (~10-40 s)
        Path fresh = tmp.resolve("cds-fresh");
        List<String> background = List.of("env", "RTB_CDS_DIR=" + fresh, home.resolve("cds-archive").toString(),
            "agent", home.resolve("agent.classlist").toString(), java, cp, "-XX:+UseSerialGC");
        long t0 = System.nanoTime();
        Exec first = Exec.run(LIMIT, tmp, background);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).as("no archive yet: no option").isBlank();
        assertThat(tookMs).as("cds-archive returned while its dump ran in the background").isLessThan(3_000);
        long deadline = System.nanoTime() + LIMIT.toNanos();
        String later = "";
        while (System.nanoTime() < deadline && later.isBlank()) {
            Thread.sleep(500);
            later = Exec.run(LIMIT, tmp, background).output().strip();
        }
        assertThat(later).as("the background dump made the archive").startsWith("-XX:SharedArchiveFile=" + fresh);

        String modules = Exec.ok(LIMIT, null, home.resolve("runtime/bin/java").toString(), "--list-modules");
        assertThat(modules).contains("java.base@", "jdk.unsupported@", "jdk.crypto.ec@").doesNotContain("jdk.compiler@");
    }
}
