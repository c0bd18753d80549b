package io.rtbackup.schema.signing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The public keys a process trusts, by key id: a directory of {@code <owner>.pub} files. The owner (the principal:
 * a host id for agents' keys, a worker name for workers' keys) comes only from the file name, never from anything
 * a record says. Several files may name one owner (rotation: {@code h1.pub} and {@code h1.2.pub}, where the owner
 * is the part before the first dot). Read once at start: a key added or removed takes effect at the restart.
 */
public final class Keyring {
    /** The owner of a key and the key. */
    public record Entry(String owner, PublicKey key) {
    }

    private final Map<String, Entry> byKeyId;
    private final Path dir;

    private Keyring(Path dir, Map<String, Entry> byKeyId) {
        this.dir = dir;
        this.byKeyId = Map.copyOf(byKeyId);
    }

    /** The keys in {@code dir}; an empty directory or one missing is an error naming it (nothing would verify). */
    public static Keyring load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("keyring " + dir + " is not a directory; it holds one <owner>.pub per signer "
                + "(rtb keys generate writes them)");
        }
        Map<String, Entry> keys = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.pub")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String owner = name.substring(0, name.indexOf('.'));
                if (owner.isEmpty()) throw new IOException("keyring file " + f + " has no owner name before '.pub'");
                PublicKey key = PublicKeys.read(f);
                String id = RecordSignature.keyId(key);
                Entry had = keys.put(id, new Entry(owner, key));
                if (had != null && !had.owner().equals(owner)) {
                    throw new IOException("keyring " + dir + ": key " + id + " is in the files of two owners, '"
                        + had.owner() + "' and '" + owner + "'; one key belongs to one signer");
                }
            }
        }
        if (keys.isEmpty()) throw new IOException("keyring " + dir + " holds no *.pub file; nothing would verify");
        return new Keyring(dir, keys);
    }

    /** A keyring of the given keys (tests, and a process that trusts its own key). */
    public static Keyring of(Map<String, PublicKey> byOwner) {
        Map<String, Entry> keys = new TreeMap<>();
        byOwner.forEach((owner, key) -> keys.put(RecordSignature.keyId(key), new Entry(owner, key)));
        return new Keyring(null, keys);
    }

    public Optional<Entry> find(String keyId) {
        return Optional.ofNullable(byKeyId.get(keyId));
    }

    public int size() {
        return byKeyId.size();
    }

    @Override
    public String toString() {
        return (dir == null ? "keyring" : "keyring " + dir) + " (" + byKeyId.size() + " key(s))";
    }
}
