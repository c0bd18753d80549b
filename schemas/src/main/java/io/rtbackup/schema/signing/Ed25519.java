package io.rtbackup.schema.signing;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519.Algorithm;

/**
 * Ed25519 (RFC 8032, pure) for {@link RecordSigner} and {@link RecordVerifier}, done by Bouncy Castle's low-level
 * code on the JDK's key objects. Why not the JDK's own {@code Signature}: under the C1-only compiler the agent runs
 * with, it took 1-1.5 ms per signature and more per verification (most of the agent's and the worker's CPU at 100
 * changes/s); this takes about a tenth. Ed25519 signatures are deterministic, so the bytes on the wire are the same
 * as the JDK's: records signed by either verify with either. Keys stay {@link PrivateKey}/{@link PublicKey} (PEM
 * files, keyring, key ids are unchanged); they are turned into raw 32-byte keys once.
 */
final class Ed25519 {
    /** The DER prefix of an Ed25519 public key's X.509 encoding (RFC 8410), followed by the 32 key bytes. */
    private static final byte[] X509_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    static final int SIGNATURE_BYTES = 64;

    private Ed25519() {
    }

    /** The raw private key of {@code key}, which must be an Ed25519 key. */
    static Ed25519PrivateKeyParameters privateKey(PrivateKey key) {
        if (!(key instanceof EdECPrivateKey ed)
            || !ed.getParams().getName().equalsIgnoreCase(NamedParameterSpec.ED25519.getName())) {
            throw new IllegalArgumentException("the signing key is a " + key.getAlgorithm() + " key, not "
                + RecordSignature.ALGORITHM + " (make one with `rtb keys generate`)");
        }
        byte[] raw = ed.getBytes().orElseThrow(() -> new IllegalArgumentException(
            "the " + RecordSignature.ALGORITHM + " signing key does not reveal its bytes (a hardware key?)"));
        return new Ed25519PrivateKeyParameters(raw, 0);
    }

    /** The raw public key of {@code key}, which must be an Ed25519 key. */
    static Ed25519PublicKeyParameters publicKey(PublicKey key) {
        byte[] der = key.getEncoded();
        if (der == null || der.length != X509_PREFIX.length + 32
            || !Arrays.equals(der, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
            throw new IllegalArgumentException("the public key is a " + key.getAlgorithm() + " key, not "
                + RecordSignature.ALGORITHM);
        }
        return new Ed25519PublicKeyParameters(der, X509_PREFIX.length);
    }

    /** The 64-byte signature of {@code message}. */
    static byte[] sign(Ed25519PrivateKeyParameters key, byte[] message) {
        byte[] sig = new byte[SIGNATURE_BYTES];
        key.sign(Algorithm.Ed25519, null, message, 0, message.length, sig, 0);
        return sig;
    }

    /** True when {@code sig} is a valid signature of {@code message} under {@code key}. */
    static boolean verify(Ed25519PublicKeyParameters key, byte[] message, byte[] sig) {
        return sig.length == SIGNATURE_BYTES && key.verify(Algorithm.Ed25519, null, message, 0, message.length, sig, 0);
    }
}
