package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.schema.Identifier;
import org.junit.jupiter.api.Test;

class UpCommandNamesTest {

    @Test
    void namesMadeFromFoldersFollowTheWireRules() {
        assertThat(UpCommand.safeName(".backup")).isEqualTo("backup");
        assertThat(UpCommand.safeName("--weird name")).isEqualTo("weird_name");
        assertThat(UpCommand.safeName("...")).isEqualTo("x");
        for (String folder : new String[] {".backup", "-x", "_y", "caf\u00e9 & co", "a".repeat(300), "..."}) {
            String name = UpCommand.safeName(folder);
            assertThat(Identifier.DESTINATION.problem(name)).as(folder).isEmpty();
            assertThat(Identifier.ROOT_ID.problem(name)).as(folder).isEmpty();
        }
    }
}
