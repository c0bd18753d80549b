package io.rtbackup.fs;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixTest {

    @TempDir
    Path tmp;

    private byte[] dir() {
        return utf8(tmp.toString());
    }

    /** Runs a command (argument list) and returns its trimmed stdout. */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).as("exit code of %s: %s", Arrays.toString(cmd), out).isZero();
        return out;
    }

    @Test
    void statLayoutMatchesCoreutilsStat() throws Exception {
        byte[] f = join(dir(), utf8("plain.txt"));
        ByteFs.write(f, utf8("hello, stat layout\n"));
        ByteFs.chmod(f, 0640);
        ByteFs.chown(f, 1234, 5678);
        ByteFs.setMtime(f, 1_700_000_000_123_456_789L);
        ByteFs.link(f, join(dir(), utf8("second-link")));

        String[] fields = run("stat", "-c", "%s %i %h %f %u %g %.9Y %d", new String(f, StandardCharsets.UTF_8))
                .split(" ");
        Stat st = Posix.fstatat(Posix.AT_FDCWD, f, Posix.AT_SYMLINK_NOFOLLOW);

        assertThat(st.size()).isEqualTo(Long.parseLong(fields[0])).isEqualTo(19);
        assertThat(st.ino()).isEqualTo(Long.parseLong(fields[1]));
        assertThat(st.nlink()).isEqualTo(Long.parseLong(fields[2])).isEqualTo(2);
        assertThat(st.mode()).isEqualTo(Integer.parseInt(fields[3], 16)).isEqualTo(0100640);
        assertThat(st.uid()).isEqualTo(Integer.parseInt(fields[4])).isEqualTo(1234);
        assertThat(st.gid()).isEqualTo(Integer.parseInt(fields[5])).isEqualTo(5678);
        assertThat(st.mtimeNs()).isEqualTo(Long.parseLong(fields[6].replace(".", ""))).isEqualTo(1_700_000_000_123_456_789L);
        assertThat(st.dev()).isEqualTo(Long.parseLong(fields[7]));
        assertThat(st.isRegular()).isTrue();
        assertThat(st.mtimeSec()).isEqualTo(1_700_000_000L);
        assertThat(st.mtimeNsPart()).isEqualTo(123_456_789);
    }

    @Test
    void fstatOfAnOpenFdMatchesFstatat() throws Exception {
        byte[] f = join(dir(), utf8("f"));
        ByteFs.write(f, new byte[12345]);
        int fd = Posix.openat(Posix.AT_FDCWD, f, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            assertThat(Posix.fstat(fd)).isEqualTo(ByteFs.lstat(f).orElseThrow());
            assertThat(Posix.ioctlInt(fd, Posix.FIONREAD)).isEqualTo(12345);
            assertThat(Posix.poll(fd, Posix.POLLIN, 0) & Posix.POLLIN).isEqualTo(Posix.POLLIN);
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void errnoIsReportedWithCallPathAndName() {
        byte[] missing = join(dir(), new byte[] {'n', 'o', '\n', (byte) 0xFF});
        assertThatThrownBy(() -> Posix.openat(Posix.AT_FDCWD, missing, Posix.O_RDONLY, 0))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e.call()).isEqualTo("openat");
                    assertThat(e.path()).isEqualTo(missing);
                    assertThat(e.getMessage()).isEqualTo("openat('" + tmp + "/no\\n\\xff'): No such file or directory"
                            + " (ENOENT, errno 2)");
                });
    }

    @Test
    void nulInsideAPathIsEinvalWithoutReachingTheKernel() {
        assertThatThrownBy(() -> Posix.fstatat(Posix.AT_FDCWD, new byte[] {'a', 0, 'b'}, 0))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
    }

    @Test
    void closeOfABadFdIsEbadf() {
        assertThatThrownBy(() -> Posix.close(987654))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADF));
    }

    @Test
    void readAndWriteWithOffsetsAndPositions() throws Exception {
        byte[] f = join(dir(), utf8("rw"));
        int fd = Posix.openat(Posix.AT_FDCWD, f, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0600);
        try {
            byte[] data = utf8("xxABCDEFyy");
            assertThat(Posix.write(fd, data, 2, 6)).isEqualTo(6);
            assertThat(Posix.pwrite(fd, utf8("-z"), 1, 1, 6)).isEqualTo(1);
            byte[] back = new byte[10];
            assertThat(Posix.pread(fd, back, 3, 7, 0)).isEqualTo(7);
            assertThat(new String(back, 3, 7, StandardCharsets.US_ASCII)).isEqualTo("ABCDEFz");
            Posix.ftruncate(fd, 2);
            Posix.fsync(fd);
        } finally {
            Posix.close(fd);
        }
        assertThat(ByteFs.readAll(f)).isEqualTo(utf8("AB"));
    }

    @Test
    void readlinkReturnsLongTargetsCompletely() throws Exception {
        byte[] target = new byte[3000];
        Arrays.fill(target, (byte) 0xE9);
        for (int i = 200; i < target.length; i += 201) {
            target[i] = '/';
        }
        byte[] link = join(dir(), utf8("long-link"));
        ByteFs.symlink(target, link);
        assertThat(ByteFs.readlink(link)).isEqualTo(target);
        assertThat(ByteFs.lstat(link).orElseThrow().size()).isEqualTo(3000);
    }

    @Test
    void renameFlagsNoReplaceAndExchange() throws Exception {
        byte[] a = join(dir(), utf8("a"));
        byte[] b = join(dir(), utf8("b"));
        ByteFs.write(a, utf8("A"));
        ByteFs.write(b, utf8("B"));
        assertThatThrownBy(() -> ByteFs.rename(a, b, Posix.RENAME_NOREPLACE))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EEXIST);
                    assertThat(e.getMessage()).contains("/a' -> '").contains("/b'");
                });
        ByteFs.rename(a, b, Posix.RENAME_EXCHANGE);
        assertThat(ByteFs.readAll(a)).isEqualTo(utf8("B"));
        assertThat(ByteFs.readAll(b)).isEqualTo(utf8("A"));
    }

    @Test
    void errnoNamesComeFromGlibc() {
        assertThat(Errno.name(Errno.ELOOP)).isEqualTo("ELOOP");
        assertThat(Errno.describe(Errno.ENOTEMPTY)).isEqualTo("Directory not empty (ENOTEMPTY, errno 39)");
        assertThat(Errno.name(99999)).isEqualTo("errno 99999");
    }

    @Test
    void fallbackErrnoTableAgreesWithGlibc() {
        for (int e = 1; e < 200; e++) {
            String fallback = Errno.fallbackName(e);
            if (fallback != null) {
                assertThat(Errno.name(e)).as("errno %d", e).isEqualTo(fallback);
            }
        }
        assertThat(Errno.fallbackName(Errno.ENOENT)).isEqualTo("ENOENT");
    }

    @Test
    void readIntoNativeMemoryAndIoctlWithAnIntegerArgument() throws Exception {
        byte[] f = join(dir(), utf8("mem"));
        ByteFs.write(f, utf8("native memory"));
        int fd = Posix.openat(Posix.AT_FDCWD, f, Posix.O_RDONLY, 0);
        try (com.sun.jna.Memory mem = new com.sun.jna.Memory(64)) {
            assertThat(Posix.read(fd, mem, 64)).isEqualTo(13);
            assertThat(mem.getByteArray(0, 13)).isEqualTo(utf8("native memory"));
            assertThat(Posix.read(fd, mem, 64)).isZero();
            // FIOCLEX (set close-on-exec) takes no argument and returns 0
            assertThat(Posix.ioctl(fd, 0x5451, 0L)).isZero();
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void effectiveIdsAreThoseOfTheProcess() throws Exception {
        assertThat(Posix.geteuid()).isEqualTo(Integer.parseInt(run("id", "-u")));
        assertThat(Posix.getegid()).isEqualTo(Integer.parseInt(run("id", "-g")));
    }
}
