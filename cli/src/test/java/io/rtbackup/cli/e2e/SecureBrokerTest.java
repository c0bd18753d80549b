package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.kafka.KafkaAccessErrors;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.testkit.TempDirs;
import io.rtbackup.testkit.TlsFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The fleet recipe of docs/security-kafka.md on real parts: {@code rtb broker} serving SASL_SSL with SCRAM users
 * and StandardAuthorizer, ACLs from {@code rtb acl}, {@code rtb worker} in its own JVM and the agent (fanotify,
 * real rsync daemons) logging in as their own principals. A file replicates; a stranger, a wrong password and an
 * agent writing commands are turned away, and the CLI says why in terms of its settings.
 */
class SecureBrokerTest {
    static final String AGENT = "agent-e2e";
    static final String WORKER = "worker-e2e";

    @Test
    void theWholePipelineRunsOverSaslSslAndOnlyWithinItsAcls() throws Exception {
        try (TempDirs tmp = TempDirs.create("rtb-secure");
             SecureBroker broker = SecureBroker.start(Path.of(tmp.pathString()), AGENT, WORKER);
             Fleet fleet = new Fleet(broker, KafkaClientSettings.resolve(broker.clientSection("admin",
                 broker.dir.resolve("admin.password"))))) {
            Path adminConfig = broker.configFile("admin", broker.clientSection("admin",
                broker.dir.resolve("admin.password")));
            Run acl = rtb("acl", "--config", adminConfig.toString(), "--topic-prefix", fleet.topicPrefix,
                "--agent", "User:" + AGENT, "--worker", "User:" + WORKER);
            assertThat(acl.exit).as(acl.err).isZero();
            assertThat(acl.out).contains("ALLOW User:" + AGENT + " WRITE TOPIC " + fleet.topics.events() + " (literal)")
                .contains("ALLOW User:" + WORKER + " WRITE TOPIC " + fleet.topics.commands() + " (literal)");

            // The pipeline, each part as its own principal: the worker through `rtb worker`, the agent in-JVM.
            broker.clientSection(AGENT).forEach((k, v) -> fleet.agentOverrides.setProperty("kafka." + k, v));
            broker.clientSection(WORKER).forEach((k, v) -> fleet.workerOverrides.setProperty("kafka." + k, v));
            ByteFs.write(join(fleet.source, utf8("before-start.txt")), utf8("rescanned"));
            Path workerLog = broker.dir.resolve("worker.log");
            Process worker = fleet.startWorkerProcess("w-secure", workerLog);
            try {
                fleet.startAgent();
                ByteFs.write(join(fleet.source, utf8("live.txt")), utf8("over TLS, logged in"));
                fleet.awaitConverged(fleet.d1, Duration.ofSeconds(180));
                fleet.awaitConverged(fleet.d2, Duration.ofSeconds(180));
                assertThat(worker.isAlive()).as("rtb worker still runs; its log: %s", Files.readString(workerLog))
                    .isTrue();
            } finally {
                worker.destroy();
                worker.waitFor(30, TimeUnit.SECONDS);
            }

            // A client without credentials gets nothing through: the SASL_SSL listener answers it no metadata.
            Map<String, Object> stranger = new HashMap<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
                "security.protocol", "SSL", "ssl.truststore.type", "PKCS12",
                "ssl.truststore.location", broker.tls.truststore().toString(), "max.block.ms", 5000));
            try (KafkaProducer<byte[], byte[]> p = producer(stranger)) {
                assertThatThrownBy(() -> p.send(new ProducerRecord<>(fleet.topics.events(), utf8("x"))).get(30,
                    TimeUnit.SECONDS)).isInstanceOfAny(ExecutionException.class,
                    org.apache.kafka.common.errors.TimeoutException.class);
            }

            // A wrong password: `rtb status` says the login was refused and names the settings to check.
            Path wrong = TlsFiles.passwordFile(broker.dir.resolve("wrong.password"), "not-the-password");
            Path wrongConfig = broker.configFile("wrong", broker.clientSection(WORKER, wrong));
            Run status = rtb("status", "--config", wrongConfig.toString(), "--topic-prefix", fleet.topicPrefix,
                "--timeout-s", "30");
            assertThat(status.exit).as(status.out + status.err).isEqualTo(3);
            assertThat(status.err).contains("Kafka refused the login").contains("kafka.sasl.password.file");

            // A password file others may read is refused before any connection, naming the file and the fix.
            Path open = TlsFiles.passwordFile(broker.dir.resolve("open.password"), "whatever");
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
            Run refused = rtb("status", "--config", broker.configFile("open", broker.clientSection(WORKER, open))
                .toString(), "--topic-prefix", fleet.topicPrefix);
            assertThat(refused.exit).isEqualTo(2);
            assertThat(refused.err).contains("kafka.sasl.password.file").contains(open.toString())
                .contains("chmod 600 " + open);

            // The agent's principal may not write commands: only workers command rsync.
            Map<String, Object> agent = new HashMap<>(KafkaClientSettings.resolve(broker.clientSection(AGENT)));
            agent.put("max.block.ms", 30000);
            try (KafkaProducer<byte[], byte[]> p = producer(agent)) {
                assertThatThrownBy(() -> p.send(new ProducerRecord<>(fleet.topics.commands(), utf8("forged"))).get(60,
                    TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TopicAuthorizationException.class)
                    .satisfies(e -> assertThat(KafkaAccessErrors.explain(e)).hasValueSatisfying(m ->
                        assertThat(m).contains("ACLs").contains("rtb acl")));
            }
        }
    }

    @Test
    void aBrokerBeyondLoopbackWithoutTlsAndSaslIsRefused() {
        Run run = rtb("broker", "--listen", "0.0.0.0:19092");
        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("refusing to listen on 0.0.0.0 without authentication").contains("--keystore");
    }

    private static KafkaProducer<byte[], byte[]> producer(Map<String, Object> props) {
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    record Run(int exit, String out, String err) {
    }

    static Run rtb(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Rtb()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
            .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }
}
