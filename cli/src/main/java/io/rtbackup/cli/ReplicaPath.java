package io.rtbackup.cli;

import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;

/**
 * Where a PATH given to {@code rtb restore} or {@code rtb versions} lives in the backup: the configured root it is
 * under (the longest that contains it), its bytes relative to that root, and the root's directory on the
 * destination ({@code <host>/<root>}, or {@code --remote-dir} when the worker routes the root elsewhere).
 *
 * @param rootId    the root's id
 * @param rel       the path relative to the root (empty: the root itself)
 * @param remoteDir the replica tree on the destination
 */
record ReplicaPath(String rootId, byte[] rel, String remoteDir) {

    /**
     * Locates {@code path} (rtb's escaped form, see {@link #absolute}) under {@code cfg}'s roots.
     *
     * @throws IllegalArgumentException when it is under no root, or a remote dir is not plain names
     */
    static ReplicaPath locate(VersionsTarget.Resolved cfg, String path, String remoteDir) {
        byte[] abs = absolute(path);
        String rootId = null;
        byte[] rel = null;
        for (var r : cfg.roots().entrySet()) {
            byte[] root = BytePaths.utf8(r.getValue());
            if (BytePaths.startsWith(abs, root) && (rootId == null || root.length > BytePaths.utf8(cfg.roots().get(rootId)).length)) {
                rootId = r.getKey();
                rel = BytePaths.relativize(root, abs);
            }
        }
        if (rootId == null) {
            throw new IllegalArgumentException("'" + BytePaths.show(abs) + "' is under none of the roots " + cfg.roots());
        }
        String dir = remoteDir != null ? VersionsTarget.checkRemoteDir("--remote-dir", remoteDir)
            : VersionsTarget.checkRemoteDir("host/root", cfg.hostId() + "/" + rootId);
        return new ReplicaPath(rootId, rel, dir);
    }

    /** The root-relative path for messages: "the root" or the escaped path in quotes. */
    String describe() {
        return rel.length == 0 ? "the root" : "'" + BytePaths.show(rel) + "'";
    }

    /**
     * PATH as bytes: rtb's escaped form ({@code \xNN}, {@code \\}, {@code \n}), other non-ASCII characters as
     * their UTF-8 bytes; relative paths against the current directory.
     */
    static byte[] absolute(String path) {
        if (path.indexOf('\uFFFD') >= 0) {
            throw new IllegalArgumentException("PATH '" + path + "' has bytes this process could not decode; write "
                + "them as \\xNN");
        }
        StringBuilder ascii = new StringBuilder();
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c < 0x80) ascii.append((char) c);
            else ascii.append(String.format("\\x%02x", c));
        }
        byte[] p = BytePaths.unshow(ascii.toString());
        if (!BytePaths.isAbsolute(p)) {
            p = BytePaths.join(BytePaths.utf8(Path.of("").toAbsolutePath().toString()), p);
        }
        return normalize(p);
    }

    /** Drops "." components, resolves ".." textually and trailing slashes (PATH need not exist any more). */
    static byte[] normalize(byte[] p) {
        ArrayDeque<byte[]> parts = new ArrayDeque<>();
        for (byte[] c : BytePaths.components(p)) {
            if (c.length == 0 || c.length == 1 && c[0] == '.') continue;
            if (c.length == 2 && c[0] == '.' && c[1] == '.') {
                if (!parts.isEmpty()) parts.removeLast();
                continue;
            }
            parts.addLast(c);
        }
        byte[] out = {'/'};
        for (byte[] c : parts) out = BytePaths.join(out, c);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReplicaPath r && rootId.equals(r.rootId) && java.util.Arrays.equals(rel, r.rel)
            && remoteDir.equals(r.remoteDir);
    }

    @Override
    public int hashCode() {
        return rootId.hashCode() * 31 + java.util.Arrays.hashCode(rel);
    }

    @Override
    public String toString() {
        return rootId + ":" + BytePaths.show(rel) + " (" + remoteDir + ")";
    }
}
