package io.rtbackup.worker.route;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The worker refuses at intake the ids the agent would refuse to execute (RootKey.problem guards the event intake). */
class RootKeyTest {

    @Test
    void aHostIdTheAgentCannotExecuteIsRefusedAtIntake() {
        // The agent refuses "a b" (its host id is a remote directory name); accepting it here only fed the DLQ.
        assertThat(RootKey.problem("a b", "etc")).contains("host id").contains("'a b'").contains("space")
            .contains("A-Z a-z 0-9");
        assertThat(RootKey.problem("web:1", "etc")).contains("host id").contains("':'");
        assertThat(RootKey.problem("h\u00e9", "etc")).contains("host id").contains("\\xe9");
        assertThat(RootKey.problem("x".repeat(256), "etc")).contains("host id").contains("256 characters")
            .contains("1-255");
    }

    @Test
    void aRootIdNoAgentCanConfigureIsRefusedAtIntake() {
        assertThat(RootKey.problem("web1", "my root")).contains("root id").contains("space");
        assertThat(RootKey.problem("web1", "a.b")).contains("root id").contains("'.'");
        assertThat(RootKey.problem("web1", "r".repeat(65))).contains("root id").contains("1-64");
    }

    @Test
    void idsBothSidesAcceptPass() {
        assertThat(RootKey.problem("web-01.example.com", "www")).isNull();
        assertThat(RootKey.problem("backup@host+1=a,b~c", "r_1-x")).isNull();
        assertThat(RootKey.problem("h".repeat(255), "r".repeat(64))).isNull();
    }

    /** Moved from WorkerConfigTest with its subject. */
    @Test
    void idsThatWouldEscapeThePrefixAreRefused() {
        assertThat(RootKey.problem("web1", "etc")).isNull();
        assertThat(RootKey.problem("../x", "etc")).contains("host id");
        assertThat(RootKey.problem("web1", "..")).contains("root id");
        assertThat(RootKey.problem("..", "etc")).contains("relative path component");
        assertThat(RootKey.problem("a/b", "etc")).contains("'/'");
        assertThat(RootKey.problem("", "etc")).contains("empty");
        assertThat(RootKey.problem("a\nb", "etc")).contains("\\x0a");
    }
}
