package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RtbCommandLineTest {

    @Test
    void helpListsTheSubcommandsAndUnknownOptionsExitTwo() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(Rtb.run("--help")).isZero();
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("broker").contains("restore")
                .contains("prune")
                .contains("reconcile");
            captured.reset();
            assertThat(Rtb.run("--no-such-option")).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8)).contains("Unknown option").contains("Usage");
            captured.reset();
            assertThat(Rtb.run("broker", "--port", "not-a-number")).isEqualTo(2);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
