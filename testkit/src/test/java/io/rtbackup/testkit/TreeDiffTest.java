package io.rtbackup.testkit;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.TreeDiff.Kind;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TreeDiffTest {

    private TempDirs tmp;
    private byte[] src;
    private byte[] dst;
    private final byte[] weird = {'w', '\n', (byte) 0xFF};

    @BeforeEach
    void setUp() throws IOException {
        tmp = TempDirs.create("rtb-treediff-");
        src = tmp.newDir("src");
        HostileNames.createTree(src);
        ByteFs.mkdir(join(src, weird));
        ByteFs.write(join(src, weird, utf8("file")), utf8("0123456789"));
        ByteFs.setMtime(join(src, weird, utf8("file")), 1_600_000_000_111_111_111L);
        ByteFs.symlink(utf8("../target"), join(src, weird, utf8("link")));
        ByteFs.write(join(src, utf8("h1")), utf8("hard"));
        ByteFs.link(join(src, utf8("h1")), join(src, utf8("h2")));
        dst = tmp.resolve("dst");
        ExternalCommand.Result cp = ExternalCommand.of("cp", "-a", tmp.pathString() + "/src/.",
                tmp.pathString() + "/dst").run();
        assertThat(cp.exitCode()).as(cp.describe()).isZero();
    }

    @AfterEach
    void tearDown() throws IOException {
        tmp.close();
        assertThat(ByteFs.exists(tmp.path())).isFalse();
    }

    private TreeDiff.Result diff() throws IOException {
        return TreeDiff.defaults().withNanosecondMtime().compare(src, dst);
    }

    private byte[] w(String name) {
        return join(weird, utf8(name));
    }

    @Test
    void anExactCopyIsEqual() throws IOException {
        TreeDiff.Result r = diff();
        assertThat(r.isEqual()).as(r.describe()).isTrue();
        assertThat(r.firstDifference()).isEmpty();
        assertThat(r.describe()).endsWith("trees equal");
        TreeDiff.defaults().withNanosecondMtime().withOwner().assertEqual(src, dst);
    }

    @Test
    void contentDifferenceOfTheSameSizeAndMtime() throws IOException {
        ByteFs.writeAt(join(dst, w("file")), 7, utf8("X"));
        ByteFs.setMtime(join(dst, w("file")), 1_600_000_000_111_111_111L);
        TreeDiff.Difference d = diff().firstDifference().orElseThrow();
        assertThat(d.kind()).isEqualTo(Kind.CONTENT);
        assertThat(d.path()).isEqualTo("w\\n\\xff/file");
        assertThat(d.relPath()).isEqualTo(w("file"));
        assertThat(d.detail()).contains("byte 7");
    }

    @Test
    void sizeDifference() throws IOException {
        ByteFs.truncate(join(dst, w("file")), 3);
        ByteFs.setMtime(join(dst, w("file")), 1_600_000_000_111_111_111L);
        assertThat(diff().differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.CONTENT);
            assertThat(d.detail()).contains("size 10 in the source, 3 in the copy");
        });
    }

    @Test
    void missingAndExtraEntries() throws IOException {
        ByteFs.delete(join(dst, w("link")));
        ByteFs.write(join(dst, w("extra")), new byte[0]);
        ByteFs.setMtime(join(dst, weird), ByteFs.lstat(join(src, weird)).orElseThrow().mtimeNs());
        List<TreeDiff.Difference> diffs = diff().differences();
        assertThat(diffs).extracting(TreeDiff.Difference::kind, TreeDiff.Difference::path).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Kind.EXTRA, "w\\n\\xff/extra"),
                org.assertj.core.groups.Tuple.tuple(Kind.MISSING, "w\\n\\xff/link"));
    }

    @Test
    void typeDifference() throws IOException {
        ByteFs.delete(join(dst, w("file")));
        ByteFs.mkdir(join(dst, w("file")));
        ByteFs.setMtime(join(dst, weird), ByteFs.lstat(join(src, weird)).orElseThrow().mtimeNs());
        assertThat(diff().differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.TYPE);
            assertThat(d.detail()).isEqualTo("file in the source, dir in the copy");
        });
    }

    @Test
    void modeDifference() throws IOException {
        ByteFs.chmod(join(dst, w("file")), 0604);
        assertThat(diff().differences()).singleElement()
                .satisfies(d -> assertThat(d.kind()).isEqualTo(Kind.MODE));
    }

    @Test
    void mtimeDifferenceInSecondsAndOnlyWithTheFlagInNanoseconds() throws IOException {
        ByteFs.setMtime(join(dst, w("file")), 1_600_000_000_111_111_112L);
        assertThat(TreeDiff.defaults().compare(src, dst).isEqual()).isTrue();
        assertThat(diff().differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.MTIME);
            assertThat(d.detail()).isEqualTo("mtime 1600000000.111111111 in the source, 1600000000.111111112 in the copy");
        });
        ByteFs.setMtime(join(dst, w("file")), 1_600_000_001_111_111_111L);
        assertThat(TreeDiff.defaults().compare(src, dst).ofKind(Kind.MTIME)).hasSize(1);
        assertThat(TreeDiff.defaults().ignoringMtime().compare(src, dst).isEqual()).isTrue();
    }

    @Test
    void nanosecondsOfDirectoriesAndSymlinksAreNotCompared() throws IOException {
        long dirMtime = ByteFs.lstat(join(src, weird)).orElseThrow().mtimeNs();
        long linkMtime = ByteFs.lstat(join(src, w("link"))).orElseThrow().mtimeNs();
        ByteFs.setMtime(join(dst, weird), dirMtime / 1_000_000_000L * 1_000_000_000L + (dirMtime + 1) % 1_000_000_000L);
        ByteFs.setMtime(join(dst, w("link")), linkMtime / 1_000_000_000L * 1_000_000_000L + (linkMtime + 7) % 1_000_000_000L);
        assertThat(diff().isEqual()).as(diff().describe()).isTrue();
        ByteFs.setMtime(join(dst, w("link")), linkMtime + 1_000_000_000L);
        assertThat(diff().differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.MTIME);
            assertThat(d.path()).isEqualTo("w\\n\\xff/link");
        });
    }

    @Test
    void directoryMtimeCanBeIgnored() throws IOException {
        ByteFs.setMtime(join(dst, weird), 5_000_000_000L);
        assertThat(diff().differences()).singleElement().satisfies(d -> assertThat(d.kind()).isEqualTo(Kind.MTIME));
        assertThat(TreeDiff.defaults().ignoringDirMtime().compare(src, dst).isEqual()).isTrue();
    }

    @Test
    void symlinkTargetDifference() throws IOException {
        byte[] link = join(dst, w("link"));
        long mtime = ByteFs.lstat(link).orElseThrow().mtimeNs();
        long dirMtime = ByteFs.lstat(join(dst, weird)).orElseThrow().mtimeNs();
        ByteFs.delete(link);
        ByteFs.symlink(utf8("/rsyncd-munged/../target"), link);
        ByteFs.setMtime(link, mtime);
        ByteFs.setMtime(join(dst, weird), dirMtime);
        assertThat(diff().differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.SYMLINK_TARGET);
            assertThat(d.detail()).isEqualTo("target '../target' in the source, '/rsyncd-munged/../target' in the copy");
        });
    }

    @Test
    void ownerDifferenceOnlyWhenAsked() throws IOException {
        ByteFs.chown(join(dst, w("link")), 4321, 4321);
        assertThat(diff().isEqual()).isTrue();
        assertThat(TreeDiff.defaults().withOwner().compare(src, dst).differences()).singleElement()
                .satisfies(d -> assertThat(d.kind()).isEqualTo(Kind.OWNER));
    }

    @Test
    void brokenAndAddedHardLinks() throws IOException {
        // break h1/h2 in the copy: same content and times, separate inodes
        long mtime = ByteFs.lstat(join(dst, utf8("h2"))).orElseThrow().mtimeNs();
        ByteFs.delete(join(dst, utf8("h2")));
        ByteFs.write(join(dst, utf8("h2")), utf8("hard"));
        ByteFs.setMtime(join(dst, utf8("h2")), mtime);
        ByteFs.setMtime(dst, ByteFs.lstat(src).orElseThrow().mtimeNs());
        TreeDiff.Result broken = TreeDiff.defaults().ignoringDirMtime().withNanosecondMtime().compare(src, dst);
        assertThat(broken.differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.HARDLINK);
            assertThat(d.path()).isEqualTo("h2");
            assertThat(d.detail()).isEqualTo("a hard link of 'h1' in the source, a separate inode in the copy");
        });

        // the reverse: the copy links two files the source keeps separate
        TreeDiff.Result added = TreeDiff.defaults().ignoringDirMtime().withNanosecondMtime().compare(dst, src);
        assertThat(added.differences()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.HARDLINK);
            assertThat(d.detail()).contains("in the copy, a separate inode in the source");
        });
    }

    @Test
    void excludedTopLevelNamesAreIgnoredInBothTrees() throws IOException {
        ByteFs.mkdirs(join(dst, utf8(".rtb-partial/deep")));
        ByteFs.deleteTree(join(dst, utf8("links")));
        ByteFs.setMtime(dst, ByteFs.lstat(src).orElseThrow().mtimeNs());
        assertThat(diff().ofKind(Kind.EXTRA)).extracting(TreeDiff.Difference::path)
                .containsExactly(".rtb-partial", ".rtb-partial/deep");
        assertThat(TreeDiff.defaults().withNanosecondMtime().excluding(".rtb-partial").excluding(utf8("links"))
                .compare(src, dst).isEqual()).isTrue();
    }

    @Test
    void assertEqualThrowsWithReadableDifferences() throws IOException {
        ByteFs.delete(join(dst, HostileNames.all().get(0)));
        assertThatThrownBy(() -> TreeDiff.defaults().ignoringDirMtime().assertEqual(src, dst))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("1 difference(s)")
                .hasMessageContaining("MISSING 'new\\nline': file missing in the copy");
    }

    @Test
    void differencesAreSortedByPath() throws IOException {
        ByteFs.chmod(join(dst, utf8("h1")), 0600);
        ByteFs.chmod(join(dst, w("file")), 0600);
        ByteFs.chmod(join(dst, utf8("-e")), 0600);
        assertThat(diff().differences()).extracting(TreeDiff.Difference::path)
                .containsExactly("-e", "h1", "h2", "w\\n\\xff/file");
        assertThat(BytePaths.show(diff().firstDifference().orElseThrow().relPath())).isEqualTo("-e");
    }
}
