package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.CaptureConfig;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code rtb up --exclude}: the globs reach the agent's root settings exactly as given, or are refused. */
class UpCommandExcludesTest {

    @Test
    void globsReachTheRootUnchanged() {
        List<String> globs = List.of("*.key", "/cache", "logs/**", "dir with space", "-lead", "a\\*b", "x/");
        Properties p = new Properties();
        p.setProperty("host.id", "h");
        p.setProperty("root.r.path", "/srv/r");
        p.setProperty("root.r.exclude", UpCommand.excludeSetting(globs));
        assertThat(CaptureConfig.parse(p).roots().get(0).excludes()).isEqualTo(globs);
        assertThat(UpCommand.excludeSetting(List.of())).isEmpty();
    }

    @Test
    void globsTheSettingCannotCarryAreRefused() {
        for (String bad : List.of("a,b", " lead", "trail ", "", "/", "caf\u00e9")) {
            assertThatThrownBy(() -> UpCommand.excludeSetting(List.of("ok", bad))).as(bad)
                .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
