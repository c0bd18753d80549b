package io.rtbackup.worker.route;

/** One root of one source host: the unit of batching and of full-root syncs. */
public record RootKey(String host, String root) {
    public RootKey {
        if (host == null || root == null) throw new IllegalArgumentException("host and root ids are required");
    }

    /**
     * Why these ids cannot be used (they end up in the remote prefix, so a {@code /} or {@code ..} would let one host
     * write over another's tree), or {@code null} when they are fine.
     */
    public static String problem(String host, String root) {
        String h = idProblem("host id", host);
        return h != null ? h : idProblem("root id", root);
    }

    private static String idProblem(String what, String id) {
        if (id == null || id.isEmpty()) return what + " is empty";
        if (id.equals(".") || id.equals("..")) return what + " '" + id + "' is a relative path component";
        if (id.length() > 255) return what + " is longer than 255 characters";
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c == '/' || c < 0x20 || c == 0x7f) {
                return what + " '" + printable(id) + "' contains '/' or a control character";
            }
        }
        return null;
    }

    /** Control characters as {@code \xNN}, for messages about ids. */
    public static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return host + ":" + root;
    }
}
