package io.rtbackup.schema;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Names a Linux file system allows and naive code mangles. */
final class HostilePaths {
    private HostilePaths() {}

    static List<byte[]> all() {
        byte[] latin = new byte[128];
        for (int i = 0; i < 128; i++) latin[i] = (byte) (0x80 + i);
        byte[] longName = new byte[255];
        Arrays.fill(longName, (byte) 'x');
        return List.of(
            utf8("dir with spaces/new\nline"),
            utf8("-leading-dash"),
            utf8("--help"),
            latin,
            longName,
            utf8("a/b/c/\t tab and \\ backslash * ? [x]"),
            new byte[] {'d', '/', (byte) 0xff, (byte) 0xfe, '/', (byte) 0xc3, '(', '.', 't', 'x', 't'},
            new byte[0]);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
