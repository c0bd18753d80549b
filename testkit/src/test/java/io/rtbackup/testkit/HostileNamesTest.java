package io.rtbackup.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.WalkEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HostileNamesTest {

    @Test
    void namesAreValidDistinctComponentsCoveringTheHardCases() {
        List<byte[]> names = HostileNames.all();
        Set<ByteBuffer> distinct = new HashSet<>();
        for (byte[] n : names) {
            assertThat(n.length).isBetween(1, 255);
            for (byte b : n) {
                assertThat(b).isNotEqualTo((byte) '/').isNotEqualTo((byte) 0);
            }
            distinct.add(ByteBuffer.wrap(n));
        }
        assertThat(distinct).hasSameSizeAs(names);
        List<String> shown = names.stream().map(BytePaths::show).toList();
        assertThat(shown).contains("new\\nline", "--help", "-e", "tab\\there", "star*question?[set]", "back\\\\slash");
        assertThat(names).anySatisfy(n -> assertThat(n).hasSize(255));
        assertThat(names).anySatisfy(n -> assertThat(isValidUtf8(n)).isFalse());
        assertThat(names).anySatisfy(n -> assertThat(n[0]).isEqualTo((byte) '-'));
        assertThat(names).anySatisfy(n -> assertThat(n[0]).isEqualTo((byte) ' '));
        // the list is defensive: callers cannot change it for others
        HostileNames.all().get(0)[0] = 'X';
        assertThat(HostileNames.all().get(0)[0]).isEqualTo((byte) 'n');
    }

    private static boolean isValidUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void createTreeReportsExactlyWhatItCreated() throws IOException {
        try (TempDirs tmp = TempDirs.create("rtb-hostile-")) {
            byte[] root = tmp.newDir("tree");
            List<byte[]> created = HostileNames.createTree(root);
            List<WalkEntry> walked = ByteFs.walk(root);
            assertThat(walked).extracting(e -> BytePaths.show(e.relPath()))
                    .containsExactlyElementsOf(created.stream().map(BytePaths::show).toList());
            assertThat(walked).filteredOn(e -> e.stat().isSymlink()).hasSize(HostileNames.all().size());
            assertThat(walked).filteredOn(e -> e.stat().isRegular() && e.stat().nlink() == 2).hasSize(6);
            for (byte[] name : HostileNames.all()) {
                assertThat(ByteFs.readAll(BytePaths.join(root, name)))
                        .isEqualTo(BytePaths.concat(BytePaths.utf8("content of "), name));
            }
        }
    }
}
