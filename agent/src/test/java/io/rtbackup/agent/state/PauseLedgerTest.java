package io.rtbackup.agent.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PauseLedgerTest {
    @TempDir
    Path dir;

    @Test
    void aPauseSurvivesAReloadAndAResumeToo() throws Exception {
        Path state = dir.resolve("state");
        PauseLedger ledger = PauseLedger.load(state);
        assertThat(ledger.paused()).isEmpty();
        ledger.put(new RootPause("docs", true, 1234, "disk swap\nnext line", "ops@admin", "c1"));
        ledger.put(new RootPause("photos", false, 0, "", "ops@admin", "c2"));

        PauseLedger again = PauseLedger.load(state);
        assertThat(again.paused()).containsExactly("docs");
        assertThat(again.get("docs")).contains(new RootPause("docs", true, 1234, "disk swap\nnext line", "ops@admin",
            "c1"));
        assertThat(again.get("photos")).contains(new RootPause("photos", false, 0, "", "ops@admin", "c2"));
        assertThat(again.get("other")).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(PauseLedger.FILE))))
            .isEqualTo("rw-------");

        again.put(new RootPause("docs", false, 0, "", "ops@admin", "c3"));
        assertThat(PauseLedger.load(state).paused()).isEmpty();
    }

    @Test
    void anUnreadableLedgerFailsTheStartNamingTheFile() throws Exception {
        Files.writeString(dir.resolve(PauseLedger.FILE), "docs.paused=true\ndocs.since-ms=not-a-number\n");
        assertThatThrownBy(() -> PauseLedger.load(dir)).isInstanceOf(UncheckedIOException.class)
            .hasMessageContaining(dir.resolve(PauseLedger.FILE).toString()).hasMessageContaining("delete it");
    }
}
