package io.rtbackup.fs;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteFsTest {

    @TempDir
    Path tmp;

    private byte[] dir() {
        return utf8(tmp.toString());
    }

    private byte[] at(String... names) {
        byte[] p = dir();
        for (String n : names) {
            p = join(p, utf8(n));
        }
        return p;
    }

    static List<byte[]> hostileNames() {
        List<byte[]> names = new ArrayList<>();
        names.add(utf8("new\nline"));
        names.add(utf8(" leading and trailing spaces "));
        names.add(utf8("-rf"));
        names.add(utf8("--help"));
        byte[] high = new byte[128];
        for (int i = 0; i < high.length; i++) {
            high[i] = (byte) (0x80 + i);
        }
        names.add(high);
        names.add(new byte[] {(byte) 0xC3, (byte) 0x28, 'x', (byte) 0xFF, (byte) 0xFE});
        byte[] longName = new byte[255];
        Arrays.fill(longName, (byte) 'L');
        longName[100] = (byte) 0xF0;
        names.add(longName);
        names.add(utf8("back\\slash*and?glob[1]"));
        names.add(utf8("tab\there"));
        names.add(utf8("-e"));
        names.add(utf8("carriage\rreturn"));
        names.add(utf8("caf\u00e9 valid utf8"));
        return names;
    }

    @Test
    void hostileNamesRoundTripThroughCreateListReadRenameDelete() throws Exception {
        List<byte[]> names = hostileNames();
        for (byte[] name : names) {
            ByteFs.write(join(dir(), name), BytePaths.concat(utf8("content of "), name));
        }
        List<byte[]> expected = new ArrayList<>(names);
        expected.sort(BytePaths.ORDER);
        assertThat(ByteFs.list(dir())).containsExactlyElementsOf(expected);

        for (byte[] name : names) {
            byte[] p = join(dir(), name);
            assertThat(ByteFs.readAll(p)).isEqualTo(BytePaths.concat(utf8("content of "), name));
            byte[] renamed = BytePaths.concat(name.length < 250 ? name : Arrays.copyOf(name, 250), utf8(".r"));
            ByteFs.rename(p, join(dir(), renamed));
            assertThat(ByteFs.exists(p)).isFalse();
            assertThat(ByteFs.lstat(join(dir(), renamed))).isPresent();
            assertThat(ByteFs.delete(join(dir(), renamed))).isTrue();
        }
        assertThat(ByteFs.list(dir())).isEmpty();
    }

    @Test
    void hostileNamesWorkAsDirectoriesAndSymlinkTargets() throws Exception {
        byte[] p = dir();
        for (byte[] name : hostileNames().subList(0, 5)) {
            p = join(p, name);
        }
        ByteFs.mkdirs(p);
        assertThat(ByteFs.lstat(p).orElseThrow().isDir()).isTrue();
        byte[] link = at("link");
        ByteFs.symlink(p, link);
        assertThat(ByteFs.readlink(link)).isEqualTo(p);
        assertThat(ByteFs.stat(link).orElseThrow().isDir()).isTrue();
        assertThat(ByteFs.lstat(link).orElseThrow().isSymlink()).isTrue();
    }

    @Test
    void componentsLongerThan255BytesAreRefusedNamingThePath() {
        byte[] name = new byte[256];
        Arrays.fill(name, (byte) 'x');
        byte[] p = join(dir(), name);
        assertThatThrownBy(() -> ByteFs.write(p, new byte[0]))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENAMETOOLONG);
                    assertThat(e.getMessage()).contains(BytePaths.show(p)).contains("ENAMETOOLONG");
                });
    }

    @Test
    void lstatReportsTypesSizesLinksAndIsEmptyForMissing() throws Exception {
        byte[] f = at("file");
        ByteFs.write(f, new byte[1000]);
        byte[] hard = at("hard");
        ByteFs.link(f, hard);
        byte[] sym = at("sym");
        ByteFs.symlink(utf8("file"), sym);
        byte[] d = at("dir");
        ByteFs.mkdir(d, 0700);

        Stat fs = ByteFs.lstat(f).orElseThrow();
        Stat hs = ByteFs.lstat(hard).orElseThrow();
        assertThat(fs.isRegular()).isTrue();
        assertThat(fs.size()).isEqualTo(1000);
        assertThat(fs.nlink()).isEqualTo(2);
        assertThat(hs.ino()).isEqualTo(fs.ino());
        assertThat(hs.dev()).isEqualTo(fs.dev());
        assertThat(fs.uid()).isEqualTo(Posix.geteuid());

        Stat ss = ByteFs.lstat(sym).orElseThrow();
        assertThat(ss.isSymlink()).isTrue();
        assertThat(ss.size()).isEqualTo(4);
        assertThat(ss.typeName()).isEqualTo("symlink");
        assertThat(ByteFs.stat(sym).orElseThrow().ino()).isEqualTo(fs.ino());

        Stat ds = ByteFs.lstat(d).orElseThrow();
        assertThat(ds.isDir()).isTrue();
        assertThat(ds.permissions()).isEqualTo(0700);

        assertThat(ByteFs.lstat(at("nope"))).isEmpty();
        assertThat(ByteFs.lstat(at("file", "below-a-file"))).isEmpty();
        ByteFs.symlink(utf8("nowhere"), at("dangling"));
        assertThat(ByteFs.exists(at("dangling"))).isTrue();
        assertThat(ByteFs.stat(at("dangling"))).isEmpty();
    }

    @Test
    void contentOperationsTruncateWriteAtAppend() throws Exception {
        byte[] f = at("f");
        ByteFs.write(f, utf8("0123456789"));
        ByteFs.writeAt(f, 3, utf8("abc"));
        assertThat(ByteFs.readAll(f)).isEqualTo(utf8("012abc6789"));
        ByteFs.append(f, utf8("XY"));
        assertThat(ByteFs.readAll(f)).isEqualTo(utf8("012abc6789XY"));
        ByteFs.truncate(f, 4);
        assertThat(ByteFs.readAll(f)).isEqualTo(utf8("012a"));
        ByteFs.truncate(f, 6);
        assertThat(ByteFs.readAll(f)).isEqualTo(new byte[] {'0', '1', '2', 'a', 0, 0});
        ByteFs.writeAt(at("sparse"), 5, utf8("z"));
        assertThat(ByteFs.readAll(at("sparse"))).isEqualTo(new byte[] {0, 0, 0, 0, 0, 'z'});

        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(big);
        ByteFs.write(f, big);
        assertThat(ByteFs.readAll(f)).isEqualTo(big);
    }

    @Test
    void writeReplacesInPlaceSoHardLinksShareTheNewContent() throws Exception {
        ByteFs.write(at("a"), utf8("old"));
        ByteFs.link(at("a"), at("b"));
        ByteFs.write(at("a"), utf8("new"));
        assertThat(ByteFs.readAll(at("b"))).isEqualTo(utf8("new"));
    }

    @Test
    void contentOperationsDoNotFollowSymlinks() throws Exception {
        ByteFs.write(at("target"), utf8("keep"));
        ByteFs.symlink(utf8("target"), at("link"));
        for (ThrowingRunnable op : List.<ThrowingRunnable>of(
                () -> ByteFs.write(at("link"), utf8("x")),
                () -> ByteFs.append(at("link"), utf8("x")),
                () -> ByteFs.truncate(at("link"), 0),
                () -> ByteFs.readAll(at("link")))) {
            assertThatThrownBy(op::run).isInstanceOfSatisfying(ErrnoException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.ELOOP));
        }
        assertThat(ByteFs.readAll(at("target"))).isEqualTo(utf8("keep"));
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void chmodChownAndTimesApplyToTheEntryItself() throws Exception {
        byte[] f = at("f");
        ByteFs.write(f, utf8("x"));
        ByteFs.chmod(f, 04751);
        assertThat(ByteFs.lstat(f).orElseThrow().permissions()).isEqualTo(04751);
        assertThat(ByteFs.lstat(f).orElseThrow().mode()).isEqualTo(0104751);

        byte[] link = at("link");
        ByteFs.symlink(utf8("f"), link);
        assertThatThrownBy(() -> ByteFs.chmod(link, 0600)).isInstanceOfSatisfying(ErrnoException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.EOPNOTSUPP));
        assertThat(ByteFs.lstat(f).orElseThrow().permissions()).isEqualTo(04751);

        ByteFs.chown(link, 4242, 4343);
        assertThat(ByteFs.lstat(link).orElseThrow().uid()).isEqualTo(4242);
        assertThat(ByteFs.lstat(link).orElseThrow().gid()).isEqualTo(4343);
        assertThat(ByteFs.lstat(f).orElseThrow().uid()).isEqualTo(Posix.geteuid());

        long fileTime = 1_600_000_000_987_654_321L;
        long linkTime = 1_500_000_000_000_000_001L;
        ByteFs.setMtime(f, fileTime);
        ByteFs.setMtime(link, linkTime);
        assertThat(ByteFs.lstat(f).orElseThrow().mtimeNs()).isEqualTo(fileTime);
        assertThat(ByteFs.lstat(link).orElseThrow().mtimeNs()).isEqualTo(linkTime);
        assertThat(Files.getLastModifiedTime(tmp.resolve("f")).toMillis()).isEqualTo(1_600_000_000_987L);

        ByteFs.setTimes(f, -1_000_000_000L, 5L);
        assertThat(ByteFs.lstat(f).orElseThrow().mtimeNs()).isEqualTo(5L);
    }

    @Test
    void mkdirsCreatesAncestorsAndRefusesAFileInTheWay() throws Exception {
        ByteFs.mkdirs(at("a", "b", "c"));
        ByteFs.mkdirs(at("a", "b", "c"));
        assertThat(ByteFs.lstat(at("a", "b", "c")).orElseThrow().isDir()).isTrue();
        ByteFs.write(at("a", "file"), new byte[0]);
        assertThatThrownBy(() -> ByteFs.mkdirs(at("a", "file", "x")))
                .isInstanceOf(ErrnoException.class);
        assertThatThrownBy(() -> ByteFs.mkdir(at("a")))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EEXIST));
    }

    @Test
    void deleteHandlesFilesEmptyDirsAndMissing() throws Exception {
        ByteFs.mkdir(at("d"));
        ByteFs.write(at("d", "f"), new byte[0]);
        assertThatThrownBy(() -> ByteFs.delete(at("d")))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOTEMPTY));
        assertThat(ByteFs.delete(at("d", "f"))).isTrue();
        assertThat(ByteFs.delete(at("d"))).isTrue();
        assertThat(ByteFs.delete(at("d"))).isFalse();
    }

    @Test
    void deleteTreeRemovesHostileTreesButNeverFollowsSymlinks() throws Exception {
        byte[] outside = at("outside");
        ByteFs.mkdirs(join(outside, utf8("keep")));
        ByteFs.write(join(outside, utf8("keep"), utf8("precious")), utf8("p"));

        byte[] tree = at("tree");
        byte[] p = tree;
        for (byte[] name : hostileNames()) {
            p = join(p, name.length > 200 ? Arrays.copyOf(name, 200) : name);
            ByteFs.mkdirs(p);
            ByteFs.write(join(p, utf8("file")), utf8("x"));
            ByteFs.symlink(outside, join(p, utf8("escape")));
            ByteFs.symlink(utf8("../../../outside/keep"), join(p, utf8("relative-escape")));
        }
        ByteFs.chmod(join(tree, hostileNames().get(0)), 0);

        assertThat(ByteFs.deleteTree(tree)).isTrue();
        assertThat(ByteFs.exists(tree)).isFalse();
        assertThat(ByteFs.readAll(join(outside, utf8("keep"), utf8("precious")))).isEqualTo(utf8("p"));
        assertThat(ByteFs.deleteTree(tree)).isFalse();

        // a symlink given as the tree itself is removed, not its target
        ByteFs.symlink(outside, at("link-to-outside"));
        assertThat(ByteFs.deleteTree(at("link-to-outside"))).isTrue();
        assertThat(ByteFs.exists(join(outside, utf8("keep"), utf8("precious")))).isTrue();
    }

    @Test
    void walkReportsEveryEntryInOrderWithLstatAndDoesNotFollowSymlinks() throws Exception {
        byte[] outside = at("outside");
        ByteFs.mkdirs(join(outside, utf8("secret-dir")));
        ByteFs.write(join(outside, utf8("secret")), utf8("s"));

        byte[] root = at("root");
        byte[] weird = new byte[] {'d', '\n', (byte) 0x80};
        ByteFs.mkdirs(join(root, weird, utf8("sub")));
        ByteFs.write(join(root, weird, utf8("sub"), utf8("-f")), utf8("x"));
        ByteFs.write(join(root, utf8("B")), utf8("bb"));
        ByteFs.write(join(root, utf8("a")), utf8("a"));
        ByteFs.symlink(outside, join(root, utf8("link")));
        ByteFs.link(join(root, utf8("a")), join(root, utf8("hard")));

        List<WalkEntry> entries = ByteFs.walk(root);
        assertThat(entries).extracting(e -> BytePaths.show(e.relPath())).containsExactly(
                "B", "a", "d\\n\\x80", "d\\n\\x80/sub", "d\\n\\x80/sub/-f", "hard", "link");
        assertThat(entries.get(0).stat().size()).isEqualTo(2);
        assertThat(entries.get(1).stat().ino()).isEqualTo(entries.get(5).stat().ino());
        assertThat(entries.get(2).stat().isDir()).isTrue();
        assertThat(entries.get(6).stat().isSymlink()).isTrue();
        assertThat(entries.get(4).relPath()).isEqualTo(BytePaths.concat(weird, utf8("/sub/-f")));

        // pruning: returning false for a directory skips its contents
        List<String> pruned = new ArrayList<>();
        ByteFs.walk(root, (rel, st) -> {
            pruned.add(BytePaths.show(rel));
            return false;
        });
        assertThat(pruned).containsExactly("B", "a", "d\\n\\x80", "hard", "link");
    }

    @Test
    void walkOfManyEntriesSpansSeveralGetdentsBuffers() throws Exception {
        byte[] root = at("many");
        ByteFs.mkdir(root);
        byte[] longPrefix = new byte[200];
        Arrays.fill(longPrefix, (byte) 'n');
        for (int i = 0; i < 1000; i++) {
            ByteFs.write(join(root, BytePaths.concat(longPrefix, utf8(String.format("%04d", i)))), new byte[0]);
        }
        List<WalkEntry> entries = ByteFs.walk(root);
        assertThat(entries).hasSize(1000);
        assertThat(BytePaths.show(entries.get(999).relPath())).endsWith("0999");
        assertThat(ByteFs.list(root)).hasSize(1000);
    }

    @Test
    void walkOfAMissingRootNamesIt() {
        assertThatThrownBy(() -> ByteFs.walk(at("missing\troot")))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.getMessage()).contains("missing\\troot");
                });
    }

    @Test
    void openDirNoFollowClassifiesEachWayOut() throws Exception {
        byte[] root = at("root");
        ByteFs.mkdirs(join(root, utf8("a/b/c")));
        ByteFs.write(join(root, utf8("a/file")), utf8("f"));
        ByteFs.mkdirs(at("outside", "x"));
        ByteFs.symlink(at("outside"), join(root, utf8("a/out")));
        ByteFs.symlink(utf8("b"), join(root, utf8("a/inner-link")));

        assertThat(ByteFs.openDirNoFollow(root, utf8("a/b/c"))).isEqualTo(new PathCheck.Inside());
        assertThat(ByteFs.openDirNoFollow(root, utf8(""))).isEqualTo(new PathCheck.Inside());
        assertThat(ByteFs.openDirNoFollow(root, utf8("./a//b/"))).isEqualTo(new PathCheck.Inside());
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/out/x")))
                .isEqualTo(new PathCheck.ThroughSymlink(utf8("a/out")));
        // even a symlink that stays inside is refused: only real directories prove containment
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/inner-link/c")))
                .isEqualTo(new PathCheck.ThroughSymlink(utf8("a/inner-link")));
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/out")))
                .isEqualTo(new PathCheck.ThroughSymlink(utf8("a/out")));
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/missing/c")))
                .isEqualTo(new PathCheck.Missing(utf8("a/missing")));
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/file/c")))
                .isEqualTo(new PathCheck.NotADirectory(utf8("a/file")));
        assertThat(ByteFs.openDirNoFollow(root, utf8("a/../../outside")))
                .isInstanceOfSatisfying(PathCheck.Invalid.class, i -> assertThat(i.describe()).contains("'..'"));
        assertThat(ByteFs.openDirNoFollow(root, at("outside"))).isInstanceOf(PathCheck.Invalid.class);
        assertThat(ByteFs.openDirNoFollow(root, new byte[] {'a', 0})).isInstanceOf(PathCheck.Invalid.class);

        assertThat(ByteFs.checkParentsNoFollow(root, utf8("a/out"))).isEqualTo(new PathCheck.Inside());
        assertThat(ByteFs.checkParentsNoFollow(root, utf8("a/b/new-file"))).isEqualTo(new PathCheck.Inside());
        assertThat(ByteFs.checkParentsNoFollow(root, utf8("a/out/x")))
                .isEqualTo(new PathCheck.ThroughSymlink(utf8("a/out")));
        assertThat(ByteFs.checkParentsNoFollow(root, utf8("a/b/.."))).isInstanceOf(PathCheck.Invalid.class);
        assertThat(new PathCheck.ThroughSymlink(new byte[] {'l', '\n'}).describe()).isEqualTo("'l\\n' is a symlink");
    }

    @Test
    void openDirNoFollowOfAMissingRootThrowsNamingTheRoot() {
        assertThatThrownBy(() -> ByteFs.openDirNoFollow(at("no-root"), utf8("a")))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.getMessage()).contains("no-root"));
    }
}
