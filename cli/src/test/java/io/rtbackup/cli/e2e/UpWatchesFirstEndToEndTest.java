package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rtb up} (its own JVM, fresh state dir) says it watches before its broker, topics and worker are up (issue
 * 18), and a file made the moment it says so reaches the destination.
 */
class UpWatchesFirstEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void rtbUpWatchesBeforeItsBrokerIsUpAndAChangeMadeThenIsReplicated() throws Exception {
        Path source = Files.createDirectories(dir.resolve("src"));
        Files.writeString(source.resolve("before.txt"), "before");
        Path dest = dir.resolve("dest");
        Path log = dir.resolve("rtb-up.log");
        ProcessBuilder pb = new ProcessBuilder(Fleet.javaCommand("up", "--source", source.toString(), "--dest",
            dest.toString(), "--state-dir", dir.resolve("state").toString(), "--host-id", "h1"));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process up = pb.start();
        try {
            FaultScenariosTest.awaitLog(log, "rtb up: capture source");
            Files.writeString(source.resolve("right-after-watching.txt"), "after");
            FaultScenariosTest.awaitLog(log, "rtb up: host");
            String out = Files.readString(log, StandardCharsets.ISO_8859_1);
            assertThat(out.indexOf("rtb up: capture source")).as("watching said before everything is up")
                .isLessThan(out.indexOf("rtb up: host"));
            Path copy = dest.resolve("h1").resolve("src").resolve("right-after-watching.txt");
            await("the file made right after watching, at " + copy).atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200)).until(() -> Files.exists(copy));
            assertThat(Files.readString(copy)).isEqualTo("after");
        } finally {
            up.destroy();
            if (!up.waitFor(60, TimeUnit.SECONDS)) up.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
