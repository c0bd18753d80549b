package io.rtbackup.schema.signing;

import io.rtbackup.schema.signing.Verification.Refused;
import io.rtbackup.schema.signing.Verification.Unverified;
import io.rtbackup.schema.signing.Verification.Verified;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * Checks a consumed record's signature against a {@link Keyring} ({@link RecordSignature} says what is signed). With
 * no keyring nothing is verified: every record is {@link Unverified}. With one, a signed record is verified or
 * refused; an unsigned one is refused when signatures are {@code required}, and {@link Unverified} otherwise (the
 * upgrade hatch, while older agents still publish unsigned records). Thread-safe.
 */
public final class RecordVerifier {
    /** Verifies nothing: every record is {@link Unverified}. */
    public static final RecordVerifier NONE = new RecordVerifier(null, false);

    private final Keyring keyring;
    private final boolean required;
    /**
     * Raw keys by key id, made on first use (a keyring holds few keys; each is decoded once). Keyed by the id, not
     * the key object: a JDK public key's hashCode encodes the key anew on every call, once per record verified.
     */
    private final Map<String, Ed25519PublicKeyParameters> raw = new ConcurrentHashMap<>();

    public RecordVerifier(Keyring keyring, boolean required) {
        this.keyring = keyring;
        this.required = required && keyring != null;
    }

    public Verification verify(ConsumerRecord<byte[], byte[]> rec) {
        return verify(rec.topic(), rec.key(), rec.value(), rec.headers());
    }

    public Verification verify(String topic, byte[] key, byte[] value, Headers headers) {
        if (keyring == null) return new Unverified();
        byte[] kid = last(headers, RecordSignature.H_KID);
        byte[] sig = last(headers, RecordSignature.H_SIG);
        if (kid == null && sig == null) {
            return required ? new Refused(RejectReason.UNSIGNED, "the record carries no signature")
                : new Unverified();
        }
        if (kid == null || sig == null) {
            return new Refused(RejectReason.MALFORMED, "only one of the headers " + RecordSignature.H_KID + " and "
                + RecordSignature.H_SIG);
        }
        String keyId = new String(kid, StandardCharsets.UTF_8);
        Optional<Keyring.Entry> entry = keyring.find(keyId);
        if (entry.isEmpty()) return new Refused(RejectReason.UNKNOWN_KEY, "key " + keyId + " is not in the " + keyring);
        if (sig.length != Ed25519.SIGNATURE_BYTES) {
            return new Refused(RejectReason.MALFORMED, "signature under key " + keyId + " has " + sig.length
                + " bytes, not " + Ed25519.SIGNATURE_BYTES);
        }
        Ed25519PublicKeyParameters pub;
        try {
            PublicKey owned = entry.get().key();
            pub = raw.computeIfAbsent(keyId, id -> Ed25519.publicKey(owned));
        } catch (IllegalArgumentException e) {
            return new Refused(RejectReason.UNKNOWN_KEY, "key " + keyId + " (owner " + entry.get().owner()
                + ") in the " + keyring + " cannot verify: " + e.getMessage());
        }
        if (Ed25519.verify(pub, RecordSignature.message(topic, key, value, keyId), sig)) {
            return new Verified(entry.get().owner(), keyId);
        }
        return new Refused(RejectReason.BAD_SIGNATURE, "the signature under key " + keyId + " (owner "
            + entry.get().owner() + ") does not match the record");
    }

    /**
     * The record checked and bound to {@code principal}: a record verified as anyone else is refused as
     * {@link RejectReason#WRONG_SIGNER}.
     */
    public Verification verifyAs(ConsumerRecord<byte[], byte[]> rec, String principal) {
        Verification v = verify(rec);
        if (v instanceof Verified ok && !ok.principal().equals(principal)) {
            return new Refused(RejectReason.WRONG_SIGNER, "signed by '" + ok.principal() + "' (key " + ok.keyId()
                + "), but it is about '" + principal + "'");
        }
        return v;
    }

    /** True when a keyring is configured. */
    public boolean verifies() {
        return keyring != null;
    }

    public boolean required() {
        return required;
    }

    private static byte[] last(Headers h, String name) {
        if (h == null) return null;
        Header x = h.lastHeader(name);
        return x == null ? null : x.value();
    }
}
