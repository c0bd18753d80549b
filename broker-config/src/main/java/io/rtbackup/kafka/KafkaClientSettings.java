package io.rtbackup.kafka;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The one place that turns a config file's {@code kafka.*} section (prefix stripped) into the properties every Kafka
 * client of rtbackup is built with: agent publisher and executor, worker consumers and producers, status readers,
 * topic provisioning, {@code rtb acl}.
 *
 * <p>Every key is passed through as a Kafka client property, except rtbackup's own secret settings, which name
 * password files (see {@link SecretFile}) instead of holding passwords:
 * <ul>
 *   <li>{@code sasl.username} + {@code sasl.password.file}: SASL login; {@code sasl.mechanism} defaults to
 *       SCRAM-SHA-512 (PLAIN and SCRAM-SHA-256 are accepted too) and {@code security.protocol} to SASL_SSL.
 *       They become {@code sasl.jaas.config}.</li>
 *   <li>{@code ssl.truststore.password.file}, {@code ssl.keystore.password.file}, {@code ssl.key.password.file}:
 *       the matching {@code *.password}.</li>
 * </ul>
 * A password written inline ({@code ssl.*.password}, or a {@code sasl.jaas.config} with {@code password=}) is
 * refused, naming the file setting to use instead; a Kafka config provider reference ({@code ${...}}) is accepted.
 */
public final class KafkaClientSettings {
    public static final String PREFIX = "kafka.";
    public static final String SASL_USERNAME = "sasl.username";
    public static final String SASL_PASSWORD_FILE = "sasl.password.file";
    private static final List<String> SSL_PASSWORDS =
        List.of("ssl.truststore.password", "ssl.keystore.password", "ssl.key.password");
    private static final Map<String, String> LOGIN_MODULES = Map.of(
        "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule",
        "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule",
        "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule");
    private static final Set<String> SASL_PROTOCOLS = Set.of("SASL_SSL", "SASL_PLAINTEXT");

    private KafkaClientSettings() {
    }

    /**
     * Client properties from the {@code kafka.*} section, secrets read from their files.
     *
     * @throws SettingException naming the {@code kafka.*} setting at fault
     */
    public static Map<String, String> resolve(Map<String, String> section) {
        Map<String, String> out = new LinkedHashMap<>(section);
        for (String key : SSL_PASSWORDS) {
            if (out.containsKey(key) && !isReference(out.get(key))) {
                throw inline(key, key + ".file");
            }
            String file = out.remove(key + ".file");
            if (file != null) out.put(key, SecretFile.read(Path.of(file), PREFIX + key + ".file"));
        }
        String jaas = out.get("sasl.jaas.config");
        if (jaas != null && jaas.contains("password") && !isReference(jaas)) {
            throw inline("sasl.jaas.config", SASL_USERNAME + " and kafka." + SASL_PASSWORD_FILE);
        }
        String user = out.remove(SASL_USERNAME);
        String passwordFile = out.remove(SASL_PASSWORD_FILE);
        if (user == null && passwordFile == null) return Map.copyOf(out);
        if (user == null || user.isBlank()) {
            throw new SettingException(PREFIX + SASL_USERNAME, "missing: kafka." + SASL_PASSWORD_FILE
                + " is set, so the SASL user name is needed too");
        }
        if (passwordFile == null || passwordFile.isBlank()) {
            throw new SettingException(PREFIX + SASL_PASSWORD_FILE, "missing: kafka." + SASL_USERNAME
                + " is set, so a file holding its password is needed too (readable only by its owner)");
        }
        if (user.chars().anyMatch(c -> c < 0x21 || c == '"' || c == '\\' || c == 0x7f)) {
            throw new SettingException(PREFIX + SASL_USERNAME, "'" + user + "' holds a space, quote or backslash");
        }
        if (jaas != null) {
            throw new SettingException(PREFIX + "sasl.jaas.config", "set either it or kafka." + SASL_USERNAME
                + " and kafka." + SASL_PASSWORD_FILE + ", not both");
        }
        String mechanism = out.computeIfAbsent("sasl.mechanism", k -> "SCRAM-SHA-512");
        String module = LOGIN_MODULES.get(mechanism);
        if (module == null) {
            throw new SettingException(PREFIX + "sasl.mechanism", "'" + mechanism + "' does not log in with a user "
                + "name and password; use one of " + LOGIN_MODULES.keySet());
        }
        String protocol = out.computeIfAbsent("security.protocol", k -> "SASL_SSL");
        if (!SASL_PROTOCOLS.contains(protocol)) {
            throw new SettingException(PREFIX + "security.protocol", "'" + protocol + "' sends no SASL login, but "
                + "kafka." + SASL_USERNAME + " is set; use SASL_SSL");
        }
        String password = SecretFile.read(Path.of(passwordFile), PREFIX + SASL_PASSWORD_FILE);
        out.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return Map.copyOf(out);
    }

    /** The same, for a whole config file: its {@code kafka.*} keys, {@code bootstrap.servers} included. */
    public static Map<String, String> fromConfig(Map<String, String> config) {
        Map<String, String> section = new LinkedHashMap<>();
        config.forEach((k, v) -> {
            if (k.startsWith(PREFIX) && k.length() > PREFIX.length()) section.put(k.substring(PREFIX.length()), v.trim());
        });
        return resolve(section);
    }

    /**
     * How long a client waits for one broker's answer before it drops the connection and asks the cluster where the
     * partition went. Kafka's 30 s default is what replication paused when a leader was cut off the network (its
     * requests got no answer, not even a reset) although the controller had moved leadership after ~9 s; 10 s keeps
     * the pause near the broker session timeout. A request that times out is retried (idempotent producers), so a
     * slow broker costs a retry, not a record.
     */
    public static final int REQUEST_TIMEOUT_MS = 10_000;

    /** {@code resolved} with what every producer and consumer of the pipeline starts from, unless it sets it. */
    public static Map<String, String> withClientDefaults(Map<String, String> resolved) {
        Map<String, String> out = new LinkedHashMap<>(resolved);
        out.putIfAbsent("request.timeout.ms", String.valueOf(REQUEST_TIMEOUT_MS));
        return Map.copyOf(out);
    }

    /** A sorted copy fit for logs: passwords and JAAS lines masked. */
    public static Map<String, String> redacted(Map<String, String> clientProperties) {
        Map<String, String> out = new TreeMap<>();
        clientProperties.forEach((k, v) -> out.put(k, k.contains("password") || k.contains("jaas") ? "***" : v));
        return out;
    }

    private static boolean isReference(String value) {
        return value.contains("${");
    }

    private static SettingException inline(String key, String instead) {
        return new SettingException(PREFIX + key, "a password is not accepted inline in a config file; put it in "
            + "a file readable only by its owner (chmod 600) and set kafka." + instead + " instead");
    }
}
