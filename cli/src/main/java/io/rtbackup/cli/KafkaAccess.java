package io.rtbackup.cli;

import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.kafka.SettingException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * How a cli command that reads or writes Kafka gets there: the address from {@code --bootstrap-servers} or the
 * {@code --config} file's {@code kafka.bootstrap.servers}, and the client settings (TLS, SASL) from that file's
 * other {@code kafka.*} keys, resolved by {@link KafkaClientSettings}. A bad or missing setting is a usage error.
 *
 * @param clientSettings resolved client settings, without {@code bootstrap.servers}
 */
record KafkaAccess(String bootstrapServers, Map<String, String> clientSettings) {

    /** From {@code --config} (may be null) and {@code --bootstrap-servers} (may be null; it wins). */
    static KafkaAccess of(CommandSpec spec, Path config, String bootstrapServers) {
        Properties props = config != null ? PropertiesFile.load(spec, config) : new Properties();
        String bootstrap = bootstrapServers != null ? bootstrapServers : props.getProperty("kafka.bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ParameterException(spec.commandLine(),
                "no Kafka address: pass --bootstrap-servers or --config with kafka.bootstrap.servers");
        }
        return new KafkaAccess(bootstrap.trim(), clientSettings(spec, config, props));
    }

    /** The resolved {@code kafka.*} keys of {@code props} (read from {@code config}), less the bootstrap address. */
    static Map<String, String> clientSettings(CommandSpec spec, Path config, Properties props) {
        Map<String, String> section = new LinkedHashMap<>();
        for (String k : props.stringPropertyNames()) {
            if (k.startsWith(KafkaClientSettings.PREFIX) && !k.equals("kafka.bootstrap.servers")) {
                section.put(k.substring(KafkaClientSettings.PREFIX.length()), props.getProperty(k).trim());
            }
        }
        try {
            return KafkaClientSettings.resolve(section);
        } catch (SettingException e) {
            throw new ParameterException(spec.commandLine(), config + ": " + e.getMessage());
        }
    }

    /** The client settings with {@code bootstrap.servers}, for a Kafka client's constructor. */
    Map<String, Object> clientProperties() {
        Map<String, Object> props = new HashMap<>(clientSettings);
        props.put("bootstrap.servers", bootstrapServers);
        return props;
    }

    /**
     * For commands whose output is the interface: a Kafka client retrying an unreachable broker would otherwise
     * print a warning per attempt. {@code RTB_LOG_LEVEL} set leaves the logging as configured.
     */
    static void quietKafkaLogs() {
        if (System.getenv("RTB_LOG_LEVEL") == null) {
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.apache.kafka"))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }
}
