package io.rtbackup.secure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OwnerOnlyTest {
    @TempDir
    Path tmp;

    private Path file(String name, String perms) throws IOException {
        Path f = Files.writeString(tmp.resolve(name), "secret\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void aSecretFileMustBeTheOwnersAlone() throws IOException {
        assertThat(OwnerOnly.secretFileProblem(file("ok", "rw-------"))).isEmpty();
        assertThat(OwnerOnly.secretFileProblem(file("ro", "r--------"))).isEmpty();
        assertThat(OwnerOnly.secretFileProblem(file("group", "rw-r-----")))
            .hasValueSatisfying(p -> assertThat(p).contains("GROUP_READ", "chmod 600"));
        assertThat(OwnerOnly.secretFileProblem(file("other", "rw----r--")))
            .hasValueSatisfying(p -> assertThat(p).contains("OTHERS_READ"));
        assertThat(OwnerOnly.secretFileProblem(tmp.resolve("missing")))
            .hasValueSatisfying(p -> assertThat(p).contains("cannot read"));
    }

    @Test
    void aLinkIsJudgedByItsTargetAsKubernetesMountsSecrets() throws IOException {
        Path data = Files.createDirectory(tmp.resolve("..data"));
        Path target = Files.writeString(data.resolve("token"), "t\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--------"));
        Path link = Files.createSymbolicLink(tmp.resolve("token"), Path.of("..data/token"));
        assertThat(OwnerOnly.secretFileProblem(link)).isEmpty();
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--r--r--"));
        assertThat(OwnerOnly.secretFileProblem(link)).isPresent();
    }

    @Test
    void createdDirectoriesAndFilesAreOwnerOnlyFromTheStart() throws IOException {
        Path deep = tmp.resolve("a/b/c");
        OwnerOnly.createDirectories(deep);
        for (Path d : new Path[] {tmp.resolve("a"), tmp.resolve("a/b"), deep}) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d))).as(d.toString())
                .isEqualTo("rwx------");
        }
        Path f = deep.resolve("generated.properties");
        OwnerOnly.writeNewFile(f, "x=1\n".getBytes());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(Files.readString(f)).isEqualTo("x=1\n");
        assertThatThrownBy(() -> OwnerOnly.writeNewFile(f, new byte[0])).isInstanceOf(IOException.class);
    }

    @Test
    void ourOwnStateDirectoryIsCreatedPrivateOrNarrowedWithAWarning() throws IOException {
        Path fresh = tmp.resolve("fresh/.rtb");
        assertThat(OwnerOnly.privateDirectory(fresh)).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rwx------");

        Path old = Files.createDirectory(tmp.resolve("old"));
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(OwnerOnly.privateDirectory(old)).hasValueSatisfying(w -> assertThat(w).contains("narrowed", "0700"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(old))).isEqualTo("rwx------");
        assertThat(OwnerOnly.privateDirectory(old)).isEmpty();

        Path notDir = Files.writeString(tmp.resolve("file"), "");
        assertThatThrownBy(() -> OwnerOnly.privateDirectory(notDir)).hasMessageContaining("not a directory");
    }
}
