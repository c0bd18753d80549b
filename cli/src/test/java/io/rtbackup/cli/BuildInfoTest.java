package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

    @Test
    void versionIsThePomsAndCommitIsTheCheckoutsDescription() throws IOException, InterruptedException {
        Matcher v = Pattern.compile("<artifactId>rtbackup-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(Files.readString(PackagingTest.REPO.resolve("pom.xml")));
        assertThat(v.find()).isTrue();
        BuildInfo info = BuildInfo.ofThisBuild();
        assertThat(info.version()).isEqualTo(v.group(1));
        // git describe --always: "<tag>-<n>-g<hash>" or just the hash, "-dirty" with local changes
        if (Files.exists(PackagingTest.REPO.resolve(".git"))) {
            assertThat(info.commit()).contains(git("rev-parse", "--short=12", "HEAD"));
        } else {
            assertThat(info.commit()).isEqualTo("unknown");
        }
    }

    static String git(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(PackagingTest.REPO.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("git %s: %s", args, out).isZero();
        return out;
    }

    @Test
    void versionOptionPrintsIt() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(Rtb.run("--version")).isZero();
        } finally {
            System.setOut(out);
        }
        BuildInfo info = BuildInfo.ofThisBuild();
        assertThat(captured.toString(StandardCharsets.UTF_8).strip())
            .isEqualTo("rtb " + info.version() + " (commit " + info.commit() + ")")
            .doesNotContain("development build");
    }
}
