package io.rtbackup.schema.signing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * The signing settings of a process (agent or worker), as they are written in its config file:
 * <pre>
 * signing.key=/etc/rtbackup/keys/h1.key   # PKCS#8 PEM, owner-only; what this process signs its records with
 * signing.keyring=/etc/rtbackup/keyring   # directory of &lt;owner&gt;.pub: whose records this process accepts
 * signing.required=true                   # default whenever a keyring is set; false accepts unsigned records
 * </pre>
 * With no keyring nothing is verified, and {@link #warning} says so for the log at start.
 */
public record SigningSettings(Optional<Path> key, Optional<Path> keyring, boolean required) {
    public static final String KEY = "signing.key";
    public static final String KEYRING = "signing.keyring";
    public static final String REQUIRED = "signing.required";

    /** No signing, no verification. */
    public static final SigningSettings NONE = new SigningSettings(Optional.empty(), Optional.empty(), false);

    public static SigningSettings from(Properties p) {
        Optional<Path> key = path(p, KEY);
        Optional<Path> ring = path(p, KEYRING);
        String req = p.getProperty(REQUIRED, "").trim();
        boolean required;
        if (req.isEmpty()) {
            required = ring.isPresent();
        } else if (req.equals("true") || req.equals("false")) {
            required = Boolean.parseBoolean(req);
        } else {
            throw new IllegalArgumentException(REQUIRED + "=" + req + ": must be true or false");
        }
        return new SigningSettings(key, ring, required);
    }

    /** The signer of {@link #key}, or {@link RecordSigner#NONE}; a key that cannot be used is an error naming it. */
    public RecordSigner signer() {
        if (key.isEmpty()) return RecordSigner.NONE;
        try {
            return new RecordSigner(SigningKey.load(key.get()));
        } catch (IOException e) {
            throw new UncheckedIOException(KEY + ": " + e.getMessage(), e);
        }
    }

    /** The verifier of {@link #keyring}, or {@link RecordVerifier#NONE}. */
    public RecordVerifier verifier() {
        if (keyring.isEmpty()) return RecordVerifier.NONE;
        try {
            return new RecordVerifier(Keyring.load(keyring.get()), required);
        } catch (IOException e) {
            throw new UncheckedIOException(KEYRING + ": " + e.getMessage(), e);
        }
    }

    /** What to warn about at start, if anything ({@code whose}: e.g. "commands", "events and results"). */
    public Optional<String> warning(String whose) {
        if (keyring.isEmpty()) {
            return Optional.of("no " + KEYRING + " set: " + whose + " are not authenticated; anyone who can write "
                + "to Kafka can forge them (see docs/security-signing.md)");
        }
        if (!required) {
            return Optional.of(REQUIRED + "=false: unsigned " + whose + " are accepted (upgrade mode); set it to "
                + "true once every peer signs");
        }
        return Optional.empty();
    }

    private static Optional<Path> path(Properties p, String name) {
        String v = p.getProperty(name, "").trim();
        return v.isEmpty() ? Optional.empty() : Optional.of(Path.of(v));
    }
}
