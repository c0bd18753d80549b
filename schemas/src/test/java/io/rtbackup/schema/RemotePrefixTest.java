package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RemotePrefixTest {

    @Test
    void plainRelativeNamesAreAccepted() {
        assertThat(RemotePrefix.problem("fleet/web-01.example.com/www/")).isEmpty();
        assertThat(RemotePrefix.problem("a")).isEmpty();
        assertThat(RemotePrefix.directory("fleet/h1/r1//")).isEqualTo("fleet/h1/r1");
    }

    @Test
    void whatTheAgentWouldNotExecuteIsRefused() {
        assertThat(RemotePrefix.problem("/abs")).get().asString().contains("absolute").contains("relative");
        assertThat(RemotePrefix.problem("")).get().asString().contains("empty");
        assertThat(RemotePrefix.problem("/")).get().asString().contains("absolute");
        assertThat(RemotePrefix.problem("a/../../b")).get().asString().contains("'..'");
        assertThat(RemotePrefix.problem("a/./b")).get().asString().contains("'.'");
        assertThat(RemotePrefix.problem("a//b")).get().asString().contains("single '/'").contains("is empty");
        assertThat(RemotePrefix.problem("my backups/h")).get().asString().contains("plain names")
            .contains("contains a space").contains("A-Z a-z 0-9");
        assertThat(RemotePrefix.problem("tab\there")).get().asString().contains("'tab\\x09here'");
    }
}
