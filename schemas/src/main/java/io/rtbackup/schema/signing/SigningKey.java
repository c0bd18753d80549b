package io.rtbackup.schema.signing;

import io.rtbackup.secure.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Optional;

/**
 * The private key a process signs its records with, and its key id. Loaded from a PKCS#8 PEM file that only its
 * owner may read ({@link OwnerOnly}): a key readable by group or others is refused, naming the file and the fix.
 */
public record SigningKey(PrivateKey privateKey, String keyId) {

    /** Loads the key in {@code file}; its public half is {@code <same name>.pub} next to it (for the key id). */
    public static SigningKey load(Path file) throws IOException {
        Optional<String> problem = OwnerOnly.secretFileProblem(file);
        if (problem.isPresent()) throw new IOException("signing key " + file + " refused: " + problem.get());
        PrivateKey key = KeyFiles.readPrivate(file);
        return new SigningKey(key, RecordSignature.keyId(PublicKeys.derive(key)));
    }

    /** A fresh key pair: the private half and the public half. */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(RecordSignature.ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + RecordSignature.ALGORITHM, e);
        }
    }

    /**
     * Writes a new key pair as {@code dir/name.key} (0600, created so) and {@code dir/name.pub}; refuses to
     * overwrite either.
     *
     * @return the key id
     */
    public static String generate(Path dir, String name) throws IOException {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IOException("key name '" + name + "' must be letters, digits, '.', '_' or '-' (it is the "
                + "principal: a host id or a worker name)");
        }
        OwnerOnly.createDirectories(dir);
        KeyPair pair = generate();
        PublicKey pub = pair.getPublic();
        OwnerOnly.writeNewFile(dir.resolve(name + ".key"),
            KeyFiles.pem(KeyFiles.PRIVATE, pair.getPrivate().getEncoded()).getBytes(StandardCharsets.US_ASCII));
        java.nio.file.Files.writeString(dir.resolve(name + ".pub"), KeyFiles.pem(KeyFiles.PUBLIC, pub.getEncoded()),
            StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE);
        return RecordSignature.keyId(pub);
    }
}
