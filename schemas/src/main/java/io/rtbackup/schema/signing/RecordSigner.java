package io.rtbackup.schema.signing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Signs the records a process publishes ({@link RecordSignature}): {@link #sign} gives the headers to send with the
 * record. {@link #NONE} signs nothing (no key configured). Thread-safe.
 */
public final class RecordSigner {
    /** Signs nothing: empty headers. */
    public static final RecordSigner NONE = new RecordSigner(null);

    private final SigningKey key;
    private final byte[] kid;
    private final ThreadLocal<Signature> signatures;

    public RecordSigner(SigningKey key) {
        this.key = key;
        this.kid = key == null ? null : key.keyId().getBytes(StandardCharsets.UTF_8);
        this.signatures = ThreadLocal.withInitial(() -> {
            try {
                return Signature.getInstance(RecordSignature.ALGORITHM);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JDK has no " + RecordSignature.ALGORITHM, e);
            }
        });
    }

    /** The headers that sign a record of {@code topic} with {@code key} and {@code value}; empty for NONE. */
    public Headers sign(String topic, byte[] recordKey, byte[] value) {
        RecordHeaders h = new RecordHeaders();
        if (key == null) return h;
        try {
            Signature s = signatures.get();
            s.initSign(key.privateKey());
            s.update(RecordSignature.message(topic, recordKey, value, key.keyId()));
            h.add(RecordSignature.H_KID, kid);
            h.add(RecordSignature.H_SIG, s.sign());
            return h;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with key " + key.keyId() + ": " + e, e);
        }
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
