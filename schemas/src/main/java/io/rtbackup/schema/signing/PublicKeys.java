package io.rtbackup.schema.signing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;

/** Public keys: reading a {@code .pub} file, and the public half of a private key (for its key id). */
public final class PublicKeys {
    private PublicKeys() {
    }

    /** The public key in {@code file} (PEM, as {@code rtb keys generate} or openssl write it). */
    public static PublicKey read(Path file) throws IOException {
        return KeyFiles.readPublic(file);
    }

    /** The key id of the key in {@code file}: a {@code .pub} file, or a private key file (judged by its text). */
    public static String keyIdOf(Path file) throws IOException {
        String text = Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
        if (text.contains("PRIVATE KEY")) return SigningKey.load(file).keyId();
        return RecordSignature.keyId(read(file));
    }

    /**
     * The public half of an Ed25519 private key, so a key loaded alone knows its id. The JDK has no direct call for
     * it: its own key pair generator is given the private key's 32 bytes as its "random" seed, which is exactly
     * how it makes a pair (SigningKeysTest checks the result against a generated pair).
     */
    static PublicKey derive(PrivateKey key) {
        if (!(key instanceof EdECPrivateKey ed) || ed.getBytes().isEmpty()) {
            throw new IllegalArgumentException("not an Ed25519 private key");
        }
        byte[] seed = ed.getBytes().get();
        try {
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance(RecordSignature.ALGORITHM);
            g.initialize(NamedParameterSpec.ED25519, new FixedRandom(seed));
            return g.generateKeyPair().getPublic();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + RecordSignature.ALGORITHM, e);
        }
    }

    /** A "random" source that yields the given seed: makes the key pair generator rebuild a known key. */
    private static final class FixedRandom extends java.security.SecureRandom {
        private final byte[] seed;

        FixedRandom(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
        }
    }
}
