package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples in examples/ (and README) are real configurations: they parse, with the values they claim. */
class ExampleConfigsTest {
    static final Path EXAMPLES = Path.of(System.getProperty("rtb.repo.root", ".."), "examples");

    static Properties load(String name) throws IOException {
        try (Reader r = Files.newBufferedReader(EXAMPLES.resolve(name))) {
            Properties p = new Properties();
            p.load(r);
            return p;
        }
    }

    @Test
    void theAgentExampleParses(@TempDir Path tmp) throws IOException {
        Properties p = load("agent.properties");
        // The example's password file is on the source host, not here: the parser reads it, so point it at one.
        Path secret = Files.writeString(Files.createFile(tmp.resolve("dc2.secret"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))), "pw\n");
        p.setProperty("destination.dc2.password-file", secret.toString());
        CaptureConfig capture = CaptureConfig.parse(p); // without the host checks: /srv/www is not on this machine
        assertThat(capture.hostId()).isEqualTo("web-01");
        assertThat(capture.roots()).extracting(CaptureConfig.RootConfig::id).containsExactlyInAnyOrder("www", "etc");
        ExecConfig exec = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_OFFSITE", "x"));
        assertThat(exec.destinations()).containsOnlyKeys("dc2", "offsite");
        assertThat(exec.destinations().get("offsite").versions()).isEqualTo(new ExecConfig.Versions(true, 30, 0));
        assertThat(exec.destinations().get("dc2").versions().keep()).isFalse();
        assertThat(io.rtbackup.agent.reconcile.ReconcileConfig.from(p))
            .isEqualTo(io.rtbackup.agent.reconcile.ReconcileConfig.DEFAULT);
    }

    @Test
    void theWorkerExampleParses() throws IOException {
        Properties p = load("worker.properties");
        p.remove("kafka.bootstrap.servers");
        WorkerConfig w = WorkerConfig.fromProperties(p);
        assertThat(w.workerId()).isEqualTo("worker-1");
        assertThat(w.destinations()).hasSize(2);
        assertThat(w.statusInterval()).isEqualTo(java.time.Duration.ofSeconds(5));
        // Read by `rtb worker` itself, not WorkerConfig (see ConfigPrecedenceTest for their errors).
        assertThat(Integer.parseInt(p.getProperty(WorkerCommand.METRICS_PORT))).isBetween(1, 65535);
        assertThat(p.getProperty(WorkerCommand.METRICS_HOST)).isEqualTo("127.0.0.1");
    }
}
