package io.rtbackup.agent.rsync;

import java.io.ByteArrayOutputStream;

/**
 * How rsync writes file names into its messages and listings in the C locale: every byte it cannot print (a
 * newline, bytes 0x80-0xFF) as {@code \#ooo} (three octal digits), and a backslash that would start such an escape
 * as {@code \#134}; every other byte as itself (a tab, a double quote and a plain backslash stay literal). One place
 * for the rule: listings ({@code VersionStore}) and error messages ({@link RsyncFileErrors}) read names with it.
 */
public final class RsyncNames {
    private RsyncNames() {
    }

    /** The bytes of a name as rsync printed it; {@code s} holds one character per byte (ISO-8859-1). */
    public static byte[] unescape(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && s.startsWith("#", i + 1) && isOctal(s, i + 2)) {
                out.write(Integer.parseInt(s.substring(i + 2, i + 5), 8));
                i += 4;
            } else {
                out.write((byte) c);
            }
        }
        return out.toByteArray();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
        return true;
    }
}
