package io.rtbackup.kafka;

import io.rtbackup.secure.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A password kept in a file that only its owner can read: the one way rtbackup takes a secret (never on a command
 * line, never inline in a config file others may read). The file holds the password on its first line; a trailing
 * newline is ignored. A file open to group or others is refused ({@link OwnerOnly}: the one rule for secret
 * files), naming the file and the fix.
 *
 * <p>Passwords go into JAAS and SCRAM strings quoted, so characters that would end or escape the quotes ({@code "}
 * and {@code \}) and control characters are refused rather than escaped.
 */
public final class SecretFile {
    private SecretFile() {
    }

    /**
     * The password in {@code file}; {@code setting} names where the path came from, for the message.
     *
     * @throws SettingException naming {@code setting} when the file is missing, empty, open to group or others,
     *     or holds an unusable password
     */
    public static String read(Path file, String setting) {
        OwnerOnly.secretFileProblem(file).ifPresent(problem -> {
            throw new SettingException(setting, file, problem);
        });
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
