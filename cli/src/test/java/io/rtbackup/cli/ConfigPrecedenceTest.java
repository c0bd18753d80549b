package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flags override the config file. Observed through the first thing each process does with the value and that
 * fails fast (binding a taken metrics port, resolving a Kafka address), so no process is left running.
 */
class ConfigPrecedenceTest {
    @TempDir
    Path tmp;
    ServerSocket takenA;
    ServerSocket takenB;
    PrintStream out;
    PrintStream err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();

    record Result(int exit, String output) {
    }

    @BeforeEach
    void setUp() throws IOException {
        takenA = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        takenB = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        out = System.out;
        err = System.err;
    }

    @AfterEach
    void tearDown() throws IOException {
        System.setOut(out);
        System.setErr(err);
        takenA.close();
        takenB.close();
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

    Path agentConfig(String metricsPort) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        return Files.writeString(tmp.resolve("agent.properties"), String.join("\n",
            "host.id=precedence-host",
            "root.data.path=" + root,
            "capture.source=scan",
            "kafka.bootstrap.servers=127.0.0.1:1",
            "destination.local.url=" + Files.createDirectories(tmp.resolve("dest")),
            "metrics.port=" + metricsPort, ""));
    }

    @Test
    void agentMetricsPortFromTheFileUnlessTheFlagSaysOtherwise() throws IOException {
        String a = String.valueOf(takenA.getLocalPort());
        String b = String.valueOf(takenB.getLocalPort());

        Result fileOnly = rtb("agent", "--config", agentConfig(a).toString());
        assertThat(fileOnly.exit()).as(fileOnly.output()).isNotZero();
        assertThat(fileOnly.output()).contains("cannot serve metrics on 127.0.0.1:" + a);

        Result flag = rtb("agent", "--config", agentConfig(a).toString(), "--metrics-port", b);
        assertThat(flag.exit()).as(flag.output()).isNotZero();
        assertThat(flag.output()).contains("cannot serve metrics on 127.0.0.1:" + b).doesNotContain("127.0.0.1:" + a);

        // A bad value in the file does not matter when the flag replaces it.
        Result badFile = rtb("agent", "--config", agentConfig("not-a-port").toString(), "--metrics-port", b);
        assertThat(badFile.output()).contains("cannot serve metrics on 127.0.0.1:" + b).doesNotContain("not-a-port");
        Result badFileOnly = rtb("agent", "--config", agentConfig("not-a-port").toString());
        assertThat(badFileOnly.exit()).isNotZero();
        assertThat(badFileOnly.output()).contains("metrics.port").contains("not-a-port");
    }

    Path workerConfig(String bootstrapLine) throws IOException {
        return Files.writeString(tmp.resolve("worker.properties"), String.join("\n",
            "worker.id=precedence-worker", bootstrapLine, "destination.local.routes=*:*", ""));
    }

    @Test
    void workerKafkaAddressFromTheFlagOverTheFile() throws IOException {
        Result none = rtb("worker", "--config", workerConfig("# no kafka address").toString());
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.output()).contains("no Kafka address").contains("kafka.bootstrap.servers")
            .contains("--bootstrap-servers");

        Result flag = rtb("worker", "--config", workerConfig("kafka.bootstrap.servers=from-file.invalid:9092").toString(),
            "--bootstrap-servers", "from-flag.invalid:9092");
        assertThat(flag.exit()).as(flag.output()).isNotZero();
        assertThat(flag.output()).contains("from-flag.invalid").doesNotContain("from-file.invalid");
    }

    Path workerConfig(String... lines) throws IOException {
        return Files.writeString(tmp.resolve("worker-m.properties"), String.join("\n", lines) + "\n");
    }

    @Test
    void workerMetricsPortAndHostFromTheFileUnlessTheFlagsSayOtherwise() throws IOException {
        String a = String.valueOf(takenA.getLocalPort());
        String b = String.valueOf(takenB.getLocalPort());
        // Kafka at a closed port: the metrics endpoint is bound first, so a taken port fails before any Kafka wait.
        String[] base = {"worker.id=precedence-worker", "kafka.bootstrap.servers=127.0.0.1:1", "destination.local.routes=*:*"};

        Result fileOnly = rtb("worker", "--config", workerConfig(with(base, "metrics.port=" + a)).toString());
        assertThat(fileOnly.exit()).as(fileOnly.output()).isNotZero();
        assertThat(fileOnly.output()).contains("cannot serve metrics on 127.0.0.1:" + a);

        Result flag = rtb("worker", "--config", workerConfig(with(base, "metrics.port=" + a)).toString(),
            "--metrics-port", b);
        assertThat(flag.output()).contains("cannot serve metrics on 127.0.0.1:" + b).doesNotContain("127.0.0.1:" + a);

        Result badFileOnly = rtb("worker", "--config", workerConfig(with(base, "metrics.port=not-a-port")).toString());
        assertThat(badFileOnly.exit()).isEqualTo(2);
        assertThat(badFileOnly.output()).contains("metrics.port").contains("not-a-port");
        Result badFile = rtb("worker", "--config", workerConfig(with(base, "metrics.port=not-a-port")).toString(),
            "--metrics-port", b);
        assertThat(badFile.output()).contains("cannot serve metrics on 127.0.0.1:" + b).doesNotContain("not-a-port");

        Result typo = rtb("worker", "--config", workerConfig(with(base, "metrics.prot=" + a)).toString());
        assertThat(typo.exit()).isEqualTo(2);
        assertThat(typo.output()).contains("metrics.prot");

        try (ServerSocket other = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            String c = String.valueOf(other.getLocalPort());
            Result hostFromFile = rtb("worker", "--config",
                workerConfig(with(base, "metrics.port=" + c, "metrics.host=127.0.0.2")).toString());
            assertThat(hostFromFile.output()).contains("cannot serve metrics on 127.0.0.2:" + c);
            Result hostFromFlag = rtb("worker", "--config",
                workerConfig(with(base, "metrics.port=" + c, "metrics.host=127.0.0.3")).toString(),
                "--metrics-host", "127.0.0.2");
            assertThat(hostFromFlag.output()).contains("cannot serve metrics on 127.0.0.2:" + c)
                .doesNotContain("127.0.0.3");
            Result agentHost = rtb("agent", "--config", agentConfig(c).toString(), "--metrics-host", "127.0.0.2");
            assertThat(agentHost.exit()).isNotZero();
            assertThat(agentHost.output()).contains("cannot serve metrics on 127.0.0.2:" + c);
        }
    }

    @Test
    void workerIdFromTheFlagOverTheFile() throws IOException {
        String a = String.valueOf(takenA.getLocalPort());
        String[] base = {"kafka.bootstrap.servers=127.0.0.1:1", "destination.local.routes=*:*", "metrics.port=" + a};

        Result badFileId = rtb("worker", "--config", workerConfig(with(base, "worker.id=bad id from file")).toString());
        assertThat(badFileId.exit()).isNotZero();
        assertThat(badFileId.output()).contains("worker.id").contains("bad id from file");

        // The flag replaces the file's (bad) id: the worker gets past its config to binding the metrics port.
        Result flag = rtb("worker", "--config", workerConfig(with(base, "worker.id=bad id from file")).toString(),
            "--worker-id", "pod-7");
        assertThat(flag.output()).contains("cannot serve metrics on 127.0.0.1:" + a).doesNotContain("bad id from file");

        Result badFlag = rtb("worker", "--config", workerConfig(with(base, "worker.id=good-file-id")).toString(),
            "--worker-id", "bad id from flag");
        assertThat(badFlag.output()).contains("worker.id").contains("bad id from flag").doesNotContain("good-file-id");

        Result noId = rtb("worker", "--config", workerConfig(base).toString(), "--worker-id", "pod-8");
        assertThat(noId.output()).as("worker.id may come from the flag alone").contains("cannot serve metrics on 127.0.0.1:" + a);
    }

    private static String[] with(String[] base, String... more) {
        String[] out = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }
}
