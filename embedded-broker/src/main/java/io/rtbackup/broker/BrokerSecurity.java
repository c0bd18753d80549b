package io.rtbackup.broker;

import io.rtbackup.kafka.SecretFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a broker that listens beyond loopback needs to authenticate its clients: a TLS keystore (PKCS12) with its
 * certificate, the password of the super user {@value #ADMIN}, and the SCRAM users of the fleet. Every password
 * was read from an owner-only file ({@link SecretFile}); none is ever printed ({@link #toString()} masks them).
 *
 * <p>Clients log in with SCRAM-SHA-512 over TLS (SASL_SSL); the controller listener stays on loopback and takes
 * only the broker itself, with PLAIN and the admin password.
 */
public record BrokerSecurity(Path keystore, String keystorePassword, Optional<Path> truststore,
                             Optional<String> truststorePassword, String adminPassword, Map<String, String> users) {
    /** The super user: formats with the broker, applies ACLs, manages users. */
    public static final String ADMIN = "admin";
    public static final String MECHANISM = "SCRAM-SHA-512";

    public BrokerSecurity {
        users = Map.copyOf(users);
        if (users.containsKey(ADMIN)) {
            throw new IllegalArgumentException("user '" + ADMIN + "' is the broker's super user; its password comes "
                + "from the admin password file, not from a --user entry");
        }
        users.keySet().forEach(BrokerSecurity::checkUserName);
    }

    /**
     * Reads the passwords from their files; {@code users} maps a user name to its password file. Errors name the
     * {@code rtb broker} option the file came from.
     */
    public static BrokerSecurity fromFiles(Path keystore, Path keystorePasswordFile, Optional<Path> truststore,
            Optional<Path> truststorePasswordFile, Path adminPasswordFile, Map<String, Path> users) {
        if (!Files.isReadable(keystore)) {
            throw new IllegalArgumentException("--keystore " + keystore + ": not a readable file");
        }
        Map<String, String> passwords = new LinkedHashMap<>();
        users.forEach((name, file) -> passwords.put(name, SecretFile.read(file, "--user " + name)));
        return new BrokerSecurity(keystore, SecretFile.read(keystorePasswordFile, "--keystore-password-file"),
            truststore, truststorePasswordFile.map(f -> SecretFile.read(f, "--truststore-password-file")),
            SecretFile.read(adminPasswordFile, "--admin-password-file"), passwords);
    }

    private static void checkUserName(String name) {
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= 0x20 || c == 0x7f || c == '"' || c == '\\'
            || c == ',' || c == '=' || c == '[' || c == ']')) {
            throw new IllegalArgumentException("SCRAM user name '" + name + "': use letters, digits, '.', '_', '-'");
        }
    }

    /** The broker's listener settings for TLS, SCRAM, the authorizer and the super user. */
    Map<String, String> brokerProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("listener.name.sasl_ssl.sasl.enabled.mechanisms", MECHANISM);
        p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + ADMIN
                + "\" password=\"" + adminPassword + "\";");
        // The controller listener is loopback only; PLAIN with a password only this broker knows keeps other
        // local users from talking to the controller as a super user.
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        p.put("listener.name.controller.plain.sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + ADMIN
                + "\" password=\"" + adminPassword + "\" user_" + ADMIN + "=\"" + adminPassword + "\";");
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.location", keystore.toAbsolutePath().toString());
        p.put("ssl.keystore.password", keystorePassword);
        truststore.ifPresent(t -> {
            p.put("ssl.truststore.type", "PKCS12");
            p.put("ssl.truststore.location", t.toAbsolutePath().toString());
        });
        truststorePassword.ifPresent(pw -> p.put("ssl.truststore.password", pw));
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + ADMIN);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** Client settings to reach this broker as {@value #ADMIN} (TLS trust from the truststore, if one was given). */
    Map<String, String> adminClientProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + ADMIN + "\" password=\"" + adminPassword + "\";");
        truststore.ifPresent(t -> {
            p.put("ssl.truststore.type", "PKCS12");
            p.put("ssl.truststore.location", t.toAbsolutePath().toString());
        });
        truststorePassword.ifPresent(pw -> p.put("ssl.truststore.password", pw));
        return p;
    }

    /** The format-time SCRAM record of the super user, in kafka-storage's {@code --add-scram} form. */
    String adminScramArgument() {
        return MECHANISM + "=[name=" + ADMIN + ",password=\"" + adminPassword + "\"]";
    }

    @Override
    public String toString() {
        return "BrokerSecurity[keystore=" + keystore + ", truststore=" + truststore.map(Path::toString).orElse("-")
            + ", users=" + users.keySet() + ", passwords=***]";
    }
}
