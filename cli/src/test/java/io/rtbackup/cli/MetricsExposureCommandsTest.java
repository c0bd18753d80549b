package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command that serves metrics applies the exposure rule ({@link MetricsEndpoint}) to its flags and config
 * keys. Observed as {@link ConfigPrecedenceTest} does, through what fails fast: a refusal, or binding a taken port
 * once the token was accepted, so no process is left running.
 */
class MetricsExposureCommandsTest {
    @TempDir
    Path tmp;
    ServerSocket taken;
    PrintStream out;
    PrintStream err;
    final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    record Result(int exit, String output) {
    }

    @BeforeEach
    void setUp() throws IOException {
        taken = new ServerSocket();
        taken.bind(new InetSocketAddress("0.0.0.0", 0));
        out = System.out;
        err = System.err;
    }

    @AfterEach
    void tearDown() throws IOException {
        System.setOut(out);
        System.setErr(err);
        taken.close();
    }

    Result rtb(String... args) {
        captured.reset();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int exit = Rtb.run(args);
            return new Result(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    Path token(String name, String perms) throws IOException {
        Path f = Files.createFile(tmp.resolve(name),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        return Files.writeString(f, "token\n");
    }

    String port() {
        return String.valueOf(taken.getLocalPort());
    }

    @Test
    void aWorkerBoundBeyondLoopbackNeedsAnOwnerOnlyToken() throws IOException {
        Path config = Files.writeString(tmp.resolve("worker.properties"), String.join("\n",
            "worker.id=exposed-worker", "kafka.bootstrap.servers=127.0.0.1:1", "destination.local.routes=*:*",
            "metrics.host=0.0.0.0", "metrics.port=" + port(), ""));
        Result none = rtb("worker", "--config", config.toString());
        assertThat(none.exit()).as(none.output()).isEqualTo(2);
        assertThat(none.output()).contains("--metrics-host 0.0.0.0 is not a loopback address", "metrics.token-file");

        Result open = rtb("worker", "--config", config.toString(), "--metrics-token-file",
            token("open", "rw-r--r--").toString());
        assertThat(open.exit()).as(open.output()).isEqualTo(2);
        assertThat(open.output()).contains("--metrics-token-file", "chmod 600");

        // The file's key works as the flag does; the token is accepted and the bind itself is what fails here.
        Files.writeString(config, "metrics.token-file=" + token("ok", "rw-------") + "\n",
            java.nio.file.StandardOpenOption.APPEND);
        Result ok = rtb("worker", "--config", config.toString());
        assertThat(ok.exit()).as(ok.output()).isNotZero();
        assertThat(ok.output()).contains("cannot serve metrics on 0.0.0.0:" + port())
            .doesNotContain("not a loopback address");
    }

    @Test
    void anAgentBoundBeyondLoopbackNeedsAToken() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path config = Files.writeString(tmp.resolve("agent.properties"), String.join("\n",
            "host.id=exposed-host", "root.data.path=" + root, "capture.source=scan",
            "kafka.bootstrap.servers=127.0.0.1:1", "destination.local.url=" + Files.createDirectories(tmp.resolve("d")),
            "metrics.port=" + port(), ""));
        Result none = rtb("agent", "--config", config.toString(), "--metrics-host", "0.0.0.0");
        assertThat(none.exit()).as(none.output()).isNotZero();
        assertThat(none.output()).contains("not a loopback address", "--metrics-token-file");

        Files.writeString(config, "metrics.token-file=" + token("ok", "rw-------") + "\n",
            java.nio.file.StandardOpenOption.APPEND);
        Result ok = rtb("agent", "--config", config.toString(), "--metrics-host", "0.0.0.0");
        assertThat(ok.exit()).as(ok.output()).isNotZero();
        assertThat(ok.output()).contains("cannot serve metrics on 0.0.0.0:" + port())
            .doesNotContain("not a loopback address");
    }

    @Test
    void rtbUpRefusesAnOpenEndpointBeforeItCreatesAnything() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("src"));
        Path state = tmp.resolve("state");
        Result r = rtb("up", "--source", source.toString(), "--dest", tmp.resolve("dest").toString(),
            "--state-dir", state.toString(), "--metrics-port", port(), "--metrics-host", "0.0.0.0");
        assertThat(r.exit()).as(r.output()).isEqualTo(2);
        assertThat(r.output()).contains("not a loopback address", "--metrics-token-file");
        assertThat(state).doesNotExist();
    }
}
