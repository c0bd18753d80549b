package io.rtbackup.agent.trust;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.RejectReason;
import io.rtbackup.schema.signing.SigningSettings;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this agent signs with and whom it believes: its host key signs every record it publishes (events, results,
 * root states); the keyring (the workers' public keys) decides which commands and pause switches it accepts.
 * Records refused for their signature are counted in {@code rtb_agent_records_rejected_total{reason}}.
 */
public record Trust(RecordSigner signer, RecordVerifier verifier, Consumer<RejectReason> rejected) {
    private static final Logger log = LoggerFactory.getLogger(Trust.class);

    /** Signs nothing, verifies nothing, counts nothing (tests and embedded uses without keys). */
    public static Trust none() {
        return new Trust(RecordSigner.NONE, RecordVerifier.NONE, r -> { });
    }

    /** The production wiring from {@code settings}; logs at start what is and is not authenticated. */
    public static Trust of(String hostId, SigningSettings settings, PrometheusRegistry registry) {
        Counter c = Counter.builder().name("rtb_agent_records_rejected_total")
            .help("Records refused because their signature did not verify under this agent's keyring (commands, "
                + "pause switches), by reason")
            .labelNames("reason").register(registry);
        for (RejectReason r : RejectReason.values()) c.labelValues(r.label()); // every reason visible from the start
        RecordSigner signer = settings.signer();
        RecordVerifier verifier = settings.verifier();
        settings.warning("commands and pause switches").ifPresent(w -> log.warn("host {}: {}", hostId, w));
        if (!signer.signs()) {
            log.warn("host {}: no {} set: this host's events and results are not signed; workers with a keyring "
                + "refuse them", hostId, SigningSettings.KEY);
        } else {
            log.info("host {}: signing events and results with key {}", hostId, signer.keyId());
        }
        return new Trust(signer, verifier, r -> c.labelValues(r.label()).inc());
    }
}
