package io.rtbackup.schema.signing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.HexFormat;

/**
 * The wire rule of a signed record, in one place. A record carries two headers: {@value #H_KID} (the signer's key
 * id, UTF-8) and {@value #H_SIG} (the Ed25519 signature). What is signed is the domain tag, the topic, the record
 * key, the record value and the key id, each preceded by its length (4 bytes, big-endian; -1 for a null key or
 * value), so a signature cannot be moved to another topic, another key, another value, or claimed for another
 * signer's key id. A key id is {@code ed25519:} + the first 16 hex digits of the SHA-256 of the public key's X.509
 * encoding.
 */
public final class RecordSignature {
    /** Header with the signer's key id. */
    public static final String H_KID = "rtb-kid";
    /** Header with the Ed25519 signature over {@link #message}. */
    public static final String H_SIG = "rtb-sig";
    /** The algorithm, as the JDK names it. */
    public static final String ALGORITHM = "Ed25519";
    private static final byte[] DOMAIN = "rtbackup-record-v1".getBytes(StandardCharsets.US_ASCII);

    private RecordSignature() {
    }

    /** The bytes signed for a record of {@code topic} with {@code key} and {@code value} under {@code keyId}. */
    public static byte[] message(String topic, byte[] key, byte[] value, String keyId) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        byte[] k = keyId.getBytes(StandardCharsets.UTF_8);
        int size = 5 * 4 + DOMAIN.length + t.length + len(key) + len(value) + k.length;
        ByteBuffer b = ByteBuffer.allocate(size);
        put(b, DOMAIN);
        put(b, t);
        put(b, key);
        put(b, value);
        put(b, k);
        return b.array();
    }

    /** The key id of {@code key}. */
    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return "ed25519:" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    private static int len(byte[] a) {
        return a == null ? 0 : a.length;
    }

    private static void put(ByteBuffer b, byte[] a) {
        if (a == null) {
            b.putInt(-1);
            return;
        }
        b.putInt(a.length);
        b.put(a);
    }
}
