package io.rtbackup.agent.config;

/** Bad agent configuration; the message starts with the offending key and says what to do. */
public class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The property key at fault, e.g. {@code root.home.path}. */
    public String key() {
        return key;
    }
}
