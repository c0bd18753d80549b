package io.rtbackup.agent.capture.kmod;

/** Printable rendering of byte paths for logs and the dump tool: ASCII as is, other bytes as \xNN. */
final class PathDisplay {
    private PathDisplay() {}

    static String show(byte[] path) {
        StringBuilder sb = new StringBuilder(path.length + 8);
        for (byte b : path) {
            int c = b & 0xff;
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }
}
