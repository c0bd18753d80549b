package io.rtbackup.agent.control;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.agent.trust.Trust;
import io.rtbackup.schema.signing.Verification;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where this agent decides whether a record of the control topic may switch one of its roots. A
 * record is accepted when it decodes as a {@link ControlCommand}, is addressed to this host, names a configured
 * root, carries a known action and its key is exactly {@code <host>/<root>} of its value (so compaction cannot keep
 * a record under one root's key that switches another). Records of other hosts are skipped silently (the topic is
 * shared); everything else refused is logged with the reason and counted in
 * {@code rtb_agent_control_refused_total{reason}}.
 *
 * <p>Authority: with a keyring ({@code signing.keyring}: the workers' public keys), only a record signed by one of
 * those keys may switch ({@code rtb pause}/{@code resume} and the status page sign with a worker key); without one,
 * whoever may write the control topic may (the ACL recipe grants that to operators and workers, never to agents).
 * The signature is checked here and nowhere else, after the cheap test that the record is for this host.
 */
public final class ControlAcceptance {
    private static final Logger log = LoggerFactory.getLogger(ControlAcceptance.class);

    private final String hostId;
    private final Set<String> roots;
    private final AvroCodec<ControlCommand> codec = AvroCodec.controlCommands();
    private final Counter refused;
    private final Trust trust;

    public ControlAcceptance(String hostId, Set<String> roots, PrometheusRegistry registry) {
        this(hostId, roots, registry, Trust.none());
    }

    /** @param trust whose keys may switch: a record must verify under its keyring (the workers' public keys) */
    public ControlAcceptance(String hostId, Set<String> roots, PrometheusRegistry registry, Trust trust) {
        this.trust = trust;
        this.hostId = hostId;
        this.roots = Set.copyOf(roots);
        this.refused = Counter.builder().name("rtb_agent_control_refused_total")
            .help("Control records (pause/resume) addressed to this host that were refused, by reason")
            .labelNames("reason").register(registry);
    }

    /** The command {@code rec} carries for this host, or empty when it is not for this host or is refused. */
    public Optional<ControlCommand> accept(ConsumerRecord<byte[], byte[]> rec) {
        if (rec.value() == null) return Optional.empty(); // a tombstone: the root's switch was removed, nothing to do
        ControlCommand c;
        try {
            c = codec.decode(rec.value());
        } catch (UndecodableRecordException e) {
            return refuse("undecodable", rec, e.getMessage());
        }
        if (!hostId.equals(c.getHostId())) return Optional.empty();
        if (trust.verifier().verify(rec) instanceof Verification.Refused r) {
            trust.rejected().accept(r.reason());
            return refuse("unauthenticated", rec, "not signed by a key of this agent's signing.keyring ("
                + r.reason().label() + "): " + r.detail());
        }
        if (!Arrays.equals(rec.key(), ControlKey.of(c.getHostId(), c.getRootId()))) {
            return refuse("key_mismatch", rec, "its key does not name host " + c.getHostId() + " and root "
                + c.getRootId());
        }
        if (!roots.contains(c.getRootId())) {
            return refuse("unknown_root", rec, "root '" + c.getRootId() + "' is not configured here; roots are " + roots);
        }
        if (c.getAction() == ControlAction.UNKNOWN) {
            return refuse("unknown_action", rec, "an action this agent does not know (written by a newer rtb?)");
        }
        return Optional.of(c);
    }

    private Optional<ControlCommand> refuse(String reason, ConsumerRecord<byte[], byte[]> rec, String why) {
        refused.labelValues(reason).inc();
        log.warn("host {}: control record at {}-{}@{} refused: {}", hostId, rec.topic(), rec.partition(), rec.offset(),
            why);
        return Optional.empty();
    }
}
