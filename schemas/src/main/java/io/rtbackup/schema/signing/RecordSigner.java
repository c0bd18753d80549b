package io.rtbackup.schema.signing;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * Signs the records a process publishes ({@link RecordSignature}): {@link #sign} gives the headers to send with the
 * record. {@link #NONE} signs nothing (no key configured). Thread-safe.
 */
public final class RecordSigner {
    /** Signs nothing: empty headers. */
    public static final RecordSigner NONE = new RecordSigner(null);

    private final SigningKey key;
    private final byte[] kid;
    private final Ed25519PrivateKeyParameters raw;

    public RecordSigner(SigningKey key) {
        this.key = key;
        this.kid = key == null ? null : key.keyId().getBytes(StandardCharsets.UTF_8);
        this.raw = key == null ? null : Ed25519.privateKey(key.privateKey());
    }

    /** The headers that sign a record of {@code topic} with {@code key} and {@code value}; empty for NONE. */
    public Headers sign(String topic, byte[] recordKey, byte[] value) {
        RecordHeaders h = new RecordHeaders();
        if (key == null) return h;
        h.add(RecordSignature.H_KID, kid);
        h.add(RecordSignature.H_SIG, Ed25519.sign(raw, RecordSignature.message(topic, recordKey, value, key.keyId())));
        return h;
    }

    /** True when records are signed. */
    public boolean signs() {
        return key != null;
    }

    /** The key id records are signed with, or "none". */
    public String keyId() {
        return key == null ? "none" : key.keyId();
    }
}
