package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rule file's bytes (that rsync reads them so is {@code PartialTransferSidesTest}'s, with real rsync). */
class RsyncExclusionFileTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void eachPathIsOneAnchoredRuleAndWildcardsMatchOnlyThemselves() {
        assertThat(RsyncExclusionFile.rules(List.of(b("plain\\#012 \n\u00ff"), b("d/*?[ab]\\x"))))
            .isEqualTo(b("/plain\\#012 \n\u00ff\0/d/[*][?][[]ab]\\\\x\0"));
        assertThatThrownBy(() -> RsyncExclusionFile.rules(List.of(new byte[0])))
            .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theFileGoesFirstAndIsGoneWhenClosed() throws Exception {
        Path file;
        try (RsyncExclusionFile f = RsyncExclusionFile.write(List.of(b("x")))) {
            List<String> args = f.prepend(List.of("rsync", "-a", "src/", "dst"));
            assertThat(args.subList(0, 2)).containsExactly("rsync", "--from0");
            assertThat(args.get(2)).startsWith("--exclude-from=");
            assertThat(args.subList(3, args.size())).containsExactly("-a", "src/", "dst");
            file = Path.of(args.get(2).substring("--exclude-from=".length()));
            assertThat(Files.readAllBytes(file)).isEqualTo(b("/x\0"));
        }
        assertThat(file).doesNotExist();
    }
}
