package io.rtbackup.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.cli.Rtb;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rtb status} with no Kafka flags finds a running {@code rtb up} (its own JVM, as a user runs it) through
 * the record in its state dir, and says clearly when that rtb up has ended.
 */
class UpStatusEndToEndTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run rtb(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Rtb()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
            .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void statusWithOnlyTheStateDirReportsOnTheRunningRtbUpAndOnItsEnd() throws Exception {
        Path source = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(source.resolve("a.txt"), "a");
        Path dest = dir.resolve("usb");
        Path state = dir.resolve("state");
        Path log = dir.resolve("rtb-up.log");
        Path record = state.resolve("up.properties");

        Run none = rtb("status", "--state-dir", state.toString());
        assertThat(none.exit()).as("nothing recorded yet: a usage error").isEqualTo(2);
        assertThat(none.err()).contains("no Kafka address").contains(record.toString());

        ProcessBuilder pb = new ProcessBuilder(Fleet.javaCommand("up", "--source", source.toString(), "--dest",
            dest.toString(), "--state-dir", state.toString(), "--host-id", "h1"));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process up = pb.start();
        try {
            FaultScenariosTest.awaitLog(log, "initial sync complete");
            assertThat(Files.getPosixFilePermissions(record)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            Properties p = new Properties();
            try (var r = Files.newBufferedReader(record, StandardCharsets.UTF_8)) {
                p.load(r);
            }
            assertThat(p.getProperty("up.pid")).isEqualTo(String.valueOf(up.pid()));
            assertThat(p.getProperty("kafka.bootstrap.servers")).matches("127\\.0\\.0\\.1:\\d+");
            assertThat(p.getProperty("destination.usb.routes")).isEqualTo("*:*");

            // The worker reports its destinations every second: the first read may come before the first report.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                Run s = rtb("status", "--state-dir", state.toString());
                assertThat(s.exit()).as(s.toString()).isZero();
                assertThat(s.out()).contains("usb").contains("h1:photos");
            });
            Run json = rtb("status", "--state-dir", state.toString(), "--json");
            assertThat(json.exit()).as(json.toString()).isZero();
            assertThat(json.out()).contains("\"usb\"");
        } finally {
            up.destroy();
            if (!up.waitFor(60, TimeUnit.SECONDS)) up.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(record).as("kept after rtb up ends: it tells status what ended").exists();
        Run gone = rtb("status", "--state-dir", state.toString());
        assertThat(gone.exit()).isEqualTo(3);
        assertThat(gone.err()).contains("rtb up is not running").contains(record.toString())
            .contains("pid " + up.pid());
    }
}
