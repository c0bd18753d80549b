package io.rtbackup.schema.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Reads and writes Ed25519 keys as PEM text, the format {@code openssl genpkey -algorithm ed25519} writes: a
 * private key is PKCS#8 ({@code BEGIN PRIVATE KEY}), a public key X.509 SubjectPublicKeyInfo
 * ({@code BEGIN PUBLIC KEY}).
 */
final class KeyFiles {
    static final String PRIVATE = "PRIVATE KEY";
    static final String PUBLIC = "PUBLIC KEY";

    private KeyFiles() {
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
            + "\n-----END " + type + "-----\n";
    }

    static PrivateKey readPrivate(Path file) throws IOException {
        try {
            return KeyFactory.getInstance(RecordSignature.ALGORITHM)
                .generatePrivate(new PKCS8EncodedKeySpec(der(file, PRIVATE)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + " is not an Ed25519 private key in PKCS#8 PEM (" + e.getMessage()
                + "); make one with: rtb keys generate --out DIR --name NAME", e);
        }
    }

    static PublicKey readPublic(Path file) throws IOException {
        try {
            return KeyFactory.getInstance(RecordSignature.ALGORITHM)
                .generatePublic(new X509EncodedKeySpec(der(file, PUBLIC)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + " is not an Ed25519 public key in PEM (" + e.getMessage()
                + "); it is the NAME.pub that rtb keys generate writes", e);
        }
    }

    private static byte[] der(Path file, String type) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) throw new IllegalArgumentException("no '" + begin + "' block");
        return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    }
}
