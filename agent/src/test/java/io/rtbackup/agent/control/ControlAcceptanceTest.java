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
}
