package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What `rtb status` does without a working Kafka: a clear message and exit code 3 (as `rtb verify`
 * when it cannot compare), or a usage error (2). */
class StatusCommandTest {

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
    void unreachableKafkaIsExitCodeThreeWithTheAddress() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Run r = rtb("status", "--bootstrap-servers", "127.0.0.1:" + port, "--timeout-s", "3", "--max-lag-s", "1");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err()).contains("cannot read the status from Kafka at 127.0.0.1:" + port)
            .contains("--bootstrap-servers");
    }

    @Test
    void noKafkaAddressIsAUsageError(@TempDir Path noUp) {
        // An empty state dir: the default, ~/.rtb, may hold the record of an rtb up running on this host.
        Run r = rtb("status", "--state-dir", noUp.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no Kafka address");
    }
}
