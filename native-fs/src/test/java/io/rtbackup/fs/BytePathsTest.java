package io.rtbackup.fs;

import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BytePathsTest {

    private static String s(byte[] b) {
        return BytePaths.show(b);
    }

    @Test
    void joinPutsExactlyOneSlash() {
        assertThat(s(BytePaths.join(utf8("/a"), utf8("b")))).isEqualTo("/a/b");
        assertThat(s(BytePaths.join(utf8("/a/"), utf8("b")))).isEqualTo("/a/b");
        assertThat(s(BytePaths.join(utf8(""), utf8("b")))).isEqualTo("b");
        assertThat(s(BytePaths.join(utf8("a"), utf8("")))).isEqualTo("a");
        assertThat(s(BytePaths.join(utf8("/"), utf8("b")))).isEqualTo("/b");
        assertThat(s(BytePaths.join(utf8("/r"), utf8("a"), utf8("b\n")))).isEqualTo("/r/a/b\\n");
        assertThatThrownBy(() -> BytePaths.join(utf8("/a"), utf8("/etc")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/etc");
    }

    @Test
    void startsWithComparesWholeComponents() {
        assertThat(BytePaths.startsWith(utf8("/a/b"), utf8("/a"))).isTrue();
        assertThat(BytePaths.startsWith(utf8("/a/b"), utf8("/a/"))).isTrue();
        assertThat(BytePaths.startsWith(utf8("/a/b"), utf8("/a/b"))).isTrue();
        assertThat(BytePaths.startsWith(utf8("/a/b/"), utf8("/a/b"))).isTrue();
        assertThat(BytePaths.startsWith(utf8("/a/b"), utf8("/"))).isTrue();
        assertThat(BytePaths.startsWith(utf8("/a/bc"), utf8("/a/b"))).isFalse();
        assertThat(BytePaths.startsWith(utf8("/a"), utf8("/a/b"))).isFalse();
        assertThat(BytePaths.startsWith(utf8("a/b"), utf8("/a"))).isFalse();
        assertThat(BytePaths.startsWith(utf8("a/b"), utf8(""))).isTrue();
        assertThat(BytePaths.startsWith(new byte[] {'/', 'r', (byte) 0xFF, '/', 'x'},
                new byte[] {'/', 'r', (byte) 0xFF})).isTrue();
    }

    @Test
    void relativizeStripsTheRoot() {
        assertThat(s(BytePaths.relativize(utf8("/srv/data"), utf8("/srv/data/x/y")))).isEqualTo("x/y");
        assertThat(s(BytePaths.relativize(utf8("/srv/data/"), utf8("/srv/data/x")))).isEqualTo("x");
        assertThat(s(BytePaths.relativize(utf8("/srv/data"), utf8("/srv/data")))).isEqualTo("");
        assertThat(s(BytePaths.relativize(utf8("/srv/data"), utf8("/srv/data/")))).isEqualTo("");
        assertThat(s(BytePaths.relativize(utf8("/"), utf8("/etc/x")))).isEqualTo("etc/x");
        assertThat(s(BytePaths.relativize(utf8("/srv"), utf8("/srv//x")))).isEqualTo("x");
        assertThatThrownBy(() -> BytePaths.relativize(utf8("/srv/data"), utf8("/srv/database/x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/srv/database/x");
    }

    @Test
    void parentAndName() {
        assertThat(s(BytePaths.parent(utf8("/a/b")))).isEqualTo("/a");
        assertThat(s(BytePaths.parent(utf8("/a/b/")))).isEqualTo("/a");
        assertThat(s(BytePaths.parent(utf8("/a")))).isEqualTo("/");
        assertThat(s(BytePaths.parent(utf8("/")))).isEqualTo("/");
        assertThat(s(BytePaths.parent(utf8("a/b")))).isEqualTo("a");
        assertThat(s(BytePaths.parent(utf8("a//b")))).isEqualTo("a");
        assertThat(s(BytePaths.parent(utf8("a")))).isEqualTo("");
        assertThat(s(BytePaths.name(utf8("/a/b\n/")))).isEqualTo("b\\n");
        assertThat(s(BytePaths.name(utf8("a")))).isEqualTo("a");
        assertThat(s(BytePaths.name(utf8("/")))).isEqualTo("");
        assertThat(BytePaths.components(utf8("/a//b/./c/"))).extracting(BytePaths::show)
                .containsExactly("a", "b", ".", "c");
    }

    @Test
    void showEscapesEverythingUnprintableAndUnshowInvertsIt() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        String shown = BytePaths.show(all);
        assertThat(shown).matches("[\\x20-\\x7e]*");
        assertThat(BytePaths.unshow(shown)).isEqualTo(all);
        assertThat(BytePaths.show(new byte[] {'a', '\n', 'b', '\t', '\\', (byte) 0xC3, (byte) 0xA9, 0x7F, ' '}))
                .isEqualTo("a\\nb\\t\\\\\\xc3\\xa9\\x7f ");
        assertThat(BytePaths.show(null)).isEqualTo("null");
        assertThatThrownBy(() -> BytePaths.unshow("a\\x4")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BytePaths.unshow("a\\q")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BytePaths.unshow("\u00e9")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void orderIsUnsigned() {
        assertThat(BytePaths.ORDER.compare(new byte[] {(byte) 0x80}, new byte[] {0x7F})).isPositive();
        assertThat(BytePaths.ORDER.compare(utf8("a"), utf8("ab"))).isNegative();
    }
}
