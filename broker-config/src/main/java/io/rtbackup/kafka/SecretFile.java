package io.rtbackup.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * A password kept in a file that only its owner can read: the one way rtbackup takes a secret (never on a command
 * line, never inline in a config file others may read). The file holds the password on its first line; a trailing
 * newline is ignored. A file readable or writable by group or others is refused, naming the file and the fix.
 *
 * <p>Passwords go into JAAS and SCRAM strings quoted, so characters that would end or escape the quotes ({@code "}
 * and {@code \}) and control characters are refused rather than escaped.
 */
public final class SecretFile {
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private SecretFile() {
    }

    /**
     * The password in {@code file}; {@code setting} names where the path came from, for the message.
     *
     * @throws SettingException naming {@code setting} when the file is missing, empty, open to group or others,
     *     or holds an unusable password
     */
    public static String read(Path file, String setting) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException e) {
            throw new SettingException(setting, file, "cannot check who may read it on this file system");
        } catch (IOException e) {
            throw new SettingException(setting, file, "cannot read it (" + e + ")");
        }
        Set<PosixFilePermission> open = EnumSet.copyOf(NOT_OWNER);
        open.retainAll(perms);
        if (!open.isEmpty()) {
            throw new SettingException(setting, file, "it is accessible to group or others (" + open
                + "); a password file must be readable only by its owner: chmod 600 " + file);
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SettingException(setting, file, "cannot read it (" + e + ")");
        }
        int eol = text.indexOf('\n');
        String password = eol < 0 ? text : text.substring(0, eol);
        if (password.endsWith("\r")) password = password.substring(0, password.length() - 1);
        if (password.isEmpty()) throw new SettingException(setting, file, "its first line is empty");
        if (password.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '"' || c == '\\')) {
            throw new SettingException(setting, file,
                "the password holds a control character, '\"' or '\\'; choose one without them");
        }
        return password;
    }
}
