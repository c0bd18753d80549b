package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped alert rules (packaging/monitoring/rtbackup-alerts.yml) as Prometheus itself reads them: promtool
 * (Debian's prometheus package; ./run-tests installs it) checks them and runs their unit tests
 * (src/test/resources/monitoring/rtbackup-alerts-test.yml: the lag, breaker, DLQ and up alerts fire on the series
 * they are meant for, at the time they are meant to, and not on the others). A machine without promtool fails.
 */
class AlertRulesTest {
    static final Path RULES = PackagingTest.REPO.resolve("packaging/monitoring/rtbackup-alerts.yml");

    record Run(int exitCode, String output) {
    }

    static Run promtool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("promtool"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is missing: install Debian's prometheus package (./run-tests does)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool %s ended", String.join(" ", args)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void promtoolAcceptsTheRules() throws Exception {
        Run check = promtool(RULES.getParent(), "check", "rules", RULES.getFileName().toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS");
    }

    @Test
    void alertsFireOnTheirUnitTestSeries(@TempDir Path dir) throws Exception {
        Files.copy(RULES, dir.resolve("rtbackup-alerts.yml"));
        try (InputStream in = AlertRulesTest.class.getResourceAsStream("/monitoring/rtbackup-alerts-test.yml")) {
            Files.copy(in, dir.resolve("rtbackup-alerts-test.yml"), StandardCopyOption.REPLACE_EXISTING);
        }
        Run test = promtool(dir, "test", "rules", "rtbackup-alerts-test.yml");
        assertThat(test.exitCode()).as(test.output()).isZero();
        assertThat(test.output()).contains("SUCCESS");
    }

    @Test
    void aBrokenRuleFileIsRefused(@TempDir Path dir) throws Exception {
        // the check above means something only if promtool fails a bad file
        Files.writeString(dir.resolve("bad.yml"), Files.readString(RULES).replace("== 2", "== = 2"));
        Run check = promtool(dir, "check", "rules", "bad.yml");
        assertThat(check.exitCode()).as(check.output()).isNotZero();
    }
}
