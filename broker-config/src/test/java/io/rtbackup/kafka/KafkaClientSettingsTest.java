package io.rtbackup.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientSettingsTest {
    @TempDir
    Path dir;

    private Path secret(String name, String content, String mode) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void aUserAndPasswordFileBecomeAScramLoginOverTls() throws IOException {
        Path pw = secret("pw", "s3cret\n", "rw-------");
        Path trust = secret("trust", "changeit\n", "r--------");
        Map<String, String> out = KafkaClientSettings.resolve(Map.of("bootstrap.servers", "b:9092",
            "sasl.username", "host-web1", "sasl.password.file", pw.toString(),
            "ssl.truststore.location", "/etc/rtb/ca.p12", "ssl.truststore.password.file", trust.toString()));
        assertThat(out).containsEntry("bootstrap.servers", "b:9092")
            .containsEntry("security.protocol", "SASL_SSL")
            .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
            .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"host-web1\" password=\"s3cret\";")
            .containsEntry("ssl.truststore.password", "changeit")
            .doesNotContainKeys("sasl.username", "sasl.password.file", "ssl.truststore.password.file");
        assertThat(KafkaClientSettings.redacted(out)).containsEntry("sasl.jaas.config", "***")
            .containsEntry("ssl.truststore.password", "***").containsEntry("bootstrap.servers", "b:9092");
    }

    @Test
    void pipelineClientsGiveUpOnASilentBrokerAfterTenSecondsUnlessTheSectionSaysOtherwise() {
        assertThat(KafkaClientSettings.withClientDefaults(Map.of("bootstrap.servers", "b:9092")))
            .containsEntry("request.timeout.ms", "10000").containsEntry("bootstrap.servers", "b:9092");
        assertThat(KafkaClientSettings.withClientDefaults(Map.of("request.timeout.ms", "45000")))
            .containsEntry("request.timeout.ms", "45000");
    }

    @Test
    void settingsWithoutSecretsPassThrough() {
        Map<String, String> plain = Map.of("bootstrap.servers", "b:9092", "session.timeout.ms", "10000");
        assertThat(KafkaClientSettings.resolve(plain)).isEqualTo(plain);
    }

    @Test
    void aPasswordFileOthersCanReadIsRefusedNamingTheFileAndTheFix() throws IOException {
        Path pw = secret("pw", "s3cret", "rw-r--r--");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.username", "u",
            "sasl.password.file", pw.toString())))
            .isInstanceOf(SettingException.class)
            .hasMessageContaining("kafka.sasl.password.file").hasMessageContaining(pw.toString())
            .hasMessageContaining("chmod 600 " + pw)
            .extracting(e -> ((SettingException) e).setting()).isEqualTo("kafka.sasl.password.file");
    }

    @Test
    void inlinePasswordsAreRefusedNamingTheFileSettingToUse() {
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("ssl.keystore.password", "x")))
            .hasMessageContaining("kafka.ssl.keystore.password:").hasMessageContaining("kafka.ssl.keystore.password.file");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";")))
            .hasMessageContaining("kafka.sasl.jaas.config").hasMessageContaining("kafka.sasl.password.file");
        // a config provider reference keeps the secret elsewhere
        assertThat(KafkaClientSettings.resolve(Map.of("ssl.keystore.password", "${file:/etc/rtb/s.properties:ks}")))
            .containsEntry("ssl.keystore.password", "${file:/etc/rtb/s.properties:ks}");
    }

    @Test
    void halfALoginOrAPlaintextProtocolIsRefused() throws IOException {
        Path pw = secret("pw", "s3cret", "rw-------");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.password.file", pw.toString())))
            .hasMessageContaining("kafka.sasl.username");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.username", "u")))
            .hasMessageContaining("kafka.sasl.password.file");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.username", "u",
            "sasl.password.file", pw.toString(), "security.protocol", "SSL")))
            .hasMessageContaining("kafka.security.protocol");
        assertThatThrownBy(() -> KafkaClientSettings.resolve(Map.of("sasl.username", "u",
            "sasl.password.file", pw.toString(), "sasl.mechanism", "GSSAPI")))
            .hasMessageContaining("kafka.sasl.mechanism");
    }

    @Test
    void aPasswordThatWouldBreakOutOfItsQuotesIsRefused() throws IOException {
        Path pw = secret("pw", "a\"b", "rw-------");
        assertThatThrownBy(() -> SecretFile.read(pw, "--admin-password-file"))
            .hasMessageContaining("--admin-password-file").hasMessageContaining("'\"'");
        Path empty = secret("empty", "\n", "rw-------");
        assertThatThrownBy(() -> SecretFile.read(empty, "x")).hasMessageContaining("empty");
    }
}
