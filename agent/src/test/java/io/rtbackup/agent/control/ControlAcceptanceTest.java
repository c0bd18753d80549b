package io.rtbackup.agent.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.ControlKey;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ControlAcceptanceTest {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ControlAcceptance acceptance = new ControlAcceptance("h1", Set.of("docs"), registry);
    private final AvroCodec<ControlCommand> codec = AvroCodec.controlCommands();

    private static ControlCommand cmd(String host, String root, ControlAction action) {
        return ControlCommand.newBuilder().setCommandId("c").setHostId(host).setRootId(root).setAction(action)
            .setReason("").setIssuedBy("ops").setIssuedAtMs(1).build();
    }

    private ConsumerRecord<byte[], byte[]> rec(byte[] key, byte[] value) {
        return new ConsumerRecord<>("rtb.control", 0, 7, key, value);
    }

    private ConsumerRecord<byte[], byte[]> rec(ControlCommand c) {
        return rec(ControlKey.of(c.getHostId(), c.getRootId()), codec.encode(c));
    }

    private double refused(String reason) {
        return registry.scrape().stream().filter(s -> s.getMetadata().getName().equals("rtb_agent_control_refused"))
            .flatMap(s -> s.getDataPoints().stream())
            .filter(d -> reason.equals(d.getLabels().get("reason")))
            .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d)
                .getValue()).sum();
    }

    @Test
    void acceptsItsOwnHostsCommandsForItsRoots() {
        assertThat(acceptance.accept(rec(cmd("h1", "docs", ControlAction.PAUSE))))
            .hasValueSatisfying(c -> assertThat(c.getAction()).isEqualTo(ControlAction.PAUSE));
    }

    @Test
    void skipsOtherHostsSilentlyAndRefusesTheRestWithAReason() {
        assertThat(acceptance.accept(rec(cmd("h2", "docs", ControlAction.PAUSE)))).isEmpty();
        assertThat(refused("undecodable") + refused("key_mismatch") + refused("unknown_root")).isZero();

        // A record kept under another root's key must not switch this one.
        assertThat(acceptance.accept(rec(ControlKey.of("h1", "other"), codec.encode(cmd("h1", "docs",
            ControlAction.PAUSE))))).isEmpty();
        assertThat(refused("key_mismatch")).isEqualTo(1);

        assertThat(acceptance.accept(rec(cmd("h1", "nope", ControlAction.PAUSE)))).isEmpty();
        assertThat(refused("unknown_root")).isEqualTo(1);

        assertThat(acceptance.accept(rec(cmd("h1", "docs", ControlAction.UNKNOWN)))).isEmpty();
        assertThat(refused("unknown_action")).isEqualTo(1);

        assertThat(acceptance.accept(rec(ControlKey.of("h1", "docs"), "garbage".getBytes(StandardCharsets.UTF_8))))
            .isEmpty();
        assertThat(refused("undecodable")).isEqualTo(1);

        assertThat(acceptance.accept(rec(ControlKey.of("h1", "docs"), null))).isEmpty();
    }

    /** With a keyring, only a switch signed by a worker key of it is taken; a host's key or none is refused. */
    @Test
    void withAKeyringOnlyASwitchSignedByAWorkerKeyIsTaken(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path keys = tmp.resolve("keys");
        io.rtbackup.schema.signing.SigningKey.generate(keys, "w1");
        io.rtbackup.schema.signing.SigningKey.generate(keys, "h2");
        java.nio.file.Path ring = java.nio.file.Files.createDirectories(tmp.resolve("ring"));
        java.nio.file.Files.copy(keys.resolve("w1.pub"), ring.resolve("w1.pub"));
        java.util.List<io.rtbackup.schema.signing.RejectReason> rejected = new java.util.ArrayList<>();
        ControlAcceptance signed = new ControlAcceptance("h1", Set.of("docs"), new PrometheusRegistry(),
            new io.rtbackup.agent.trust.Trust(io.rtbackup.schema.signing.RecordSigner.NONE,
                new io.rtbackup.schema.signing.RecordVerifier(io.rtbackup.schema.signing.Keyring.load(ring), true),
                rejected::add));
        ControlCommand pause = cmd("h1", "docs", ControlAction.PAUSE);
        byte[] key = ControlKey.of("h1", "docs");
        byte[] value = codec.encode(pause);
        for (String signer : java.util.List.of("w1", "h2")) {
            var s = new io.rtbackup.schema.signing.RecordSigner(
                io.rtbackup.schema.signing.SigningKey.load(keys.resolve(signer + ".key")));
            ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>("rtb.control", 0, 7, 0L,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, -1, -1, key, value,
                s.sign("rtb.control", key, value), java.util.Optional.empty());
            if (signer.equals("w1")) assertThat(signed.accept(r)).isPresent();
            else assertThat(signed.accept(r)).isEmpty();
        }
        assertThat(signed.accept(rec(key, value))).as("unsigned").isEmpty();
        assertThat(signed.accept(rec(cmd("h2", "docs", ControlAction.PAUSE)))).as("another host's: not even checked")
            .isEmpty();
        assertThat(rejected).containsExactly(io.rtbackup.schema.signing.RejectReason.UNKNOWN_KEY,
            io.rtbackup.schema.signing.RejectReason.UNSIGNED);
    }
}
