package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RsyncVersionTest {

    @Test
    void theRsyncVersionIsChecked() {
        RsyncVersion.check("rsync"); // 3.5.0 on this machine
        assertThatThrownBy(() -> RsyncVersion.check("/nonexistent/rsync"))
            .hasMessageContaining("install rsync >= 3.2.3");
        assertThatThrownBy(() -> RsyncVersion.check("true")).hasMessageContaining("does not look like rsync");
    }
}
