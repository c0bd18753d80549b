package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdentifierTest {

    @Test
    void hostIdsAreRemoteDirectoryNames() {
        for (String ok : new String[] {"web-01", "web-01.example.com", "backup@h+1=a,b~c_d", "-leading", "h".repeat(255),
                "...", ".hidden"}) {
            assertThat(Identifier.HOST_ID.problem(ok)).as(ok).isEmpty();
        }
        assertThat(Identifier.HOST_ID.problem("a b")).get().asString()
            .contains("host id 'a b' contains a space").contains("1-255 characters of A-Z a-z 0-9 . _ @ + = , ~ -");
        assertThat(Identifier.HOST_ID.problem("a/b")).get().asString().contains("'/'");
        assertThat(Identifier.HOST_ID.problem("web:1")).get().asString().contains("':'");
        assertThat(Identifier.HOST_ID.problem("a\nb")).get().asString().contains("'a\\x0ab'").contains("'\\x0a'");
        assertThat(Identifier.HOST_ID.problem("caf\u00e9")).get().asString().contains("'\\xe9'");
        assertThat(Identifier.HOST_ID.problem("\u65e5")).get().asString().contains("'\\u65e5'");
        assertThat(Identifier.HOST_ID.problem("..")).get().asString().contains("relative path component")
            .contains("not '.' or '..'");
        assertThat(Identifier.HOST_ID.problem(".")).get().asString().contains("relative path component");
        assertThat(Identifier.HOST_ID.problem("")).get().asString().contains("host id is empty");
        assertThat(Identifier.HOST_ID.problem(null)).get().asString().contains("host id is missing");
        assertThat(Identifier.HOST_ID.problem("h".repeat(256))).get().asString().contains("has 256 characters")
            .contains("1-255");
    }

    @Test
    void rootIdsAreConfigurationKeyParts() {
        for (String ok : new String[] {"r1", "www", "data_2-b", "-x", "r".repeat(64)}) {
            assertThat(Identifier.ROOT_ID.problem(ok)).as(ok).isEmpty();
        }
        assertThat(Identifier.ROOT_ID.problem("a.b")).get().asString().contains("root id 'a.b' contains '.'")
            .contains("1-64 characters of A-Z a-z 0-9 _ -");
        assertThat(Identifier.ROOT_ID.problem("my root")).get().asString().contains("a space");
        assertThat(Identifier.ROOT_ID.problem("r".repeat(65))).get().asString().contains("65 characters");
        assertThat(Identifier.ROOT_ID.problem("..")).get().asString().contains("root id");
    }

    @Test
    void destinationNamesStartWithALetterOrDigit() {
        for (String ok : new String[] {"dc2", "local", "nas_1-b", "9", "d".repeat(64)}) {
            assertThat(Identifier.DESTINATION.problem(ok)).as(ok).isEmpty();
        }
        assertThat(Identifier.DESTINATION.problem("-x")).get().asString()
            .contains("destination name '-x' starts with '-'").contains("starting with a letter or digit");
        assertThat(Identifier.DESTINATION.problem("a.b")).get().asString().contains("'.'");
        assertThat(Identifier.DESTINATION.problem("d".repeat(65))).get().asString().contains("1-64");
    }

    @Test
    void remoteNamesAllowDotsButNotDotComponents() {
        assertThat(Identifier.REMOTE_NAME.isValid("fleet.v2")).isTrue();
        assertThat(Identifier.REMOTE_NAME.isValid("..")).isFalse();
        assertThat(Identifier.REMOTE_NAME.isValid("sp ace")).isFalse();
        assertThat(Identifier.REMOTE_NAME.isValid("")).isFalse();
    }
}
