package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.signing.SigningKey;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rtb keys generate} and {@code rtb keys show}, through the command line as an operator types them. */
class KeysCommandTest {
    @TempDir
    Path tmp;

    private String run(int expectedExit, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(Rtb.run(args)).as(captured.toString(StandardCharsets.UTF_8)).isEqualTo(expectedExit);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void generateWritesAnOwnerOnlyKeyAndItsPublicHalfAndShowPrintsTheirId() throws Exception {
        Path dir = tmp.resolve("keys");
        String said = run(0, "keys", "generate", "--out", dir.toString(), "--name", "web-1");
        Path key = dir.resolve("web-1.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        String id = SigningKey.load(key).keyId();
        assertThat(said).contains(id).contains("web-1.pub");
        assertThat(run(0, "keys", "show", dir.resolve("web-1.pub").toString())).contains(id);
        assertThat(run(0, "keys", "show", key.toString())).contains(id);
        assertThat(run(1, "keys", "generate", "--out", dir.toString(), "--name", "web-1")).contains("web-1.key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(run(1, "keys", "show", key.toString())).contains("chmod 600");
    }
}
