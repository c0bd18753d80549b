package io.rtbackup.worker.config;

/** A worker setting is missing or invalid; the message names the key and says what a valid value looks like. */
public final class ConfigException extends IllegalArgumentException {
    private final String key;

    public ConfigException(String key, String message) {
        super("worker setting '" + key + "': " + message);
        this.key = key;
    }

    /** The offending property key, e.g. {@code destination.nas.routes}. */
    public String key() {
        return key;
    }
}
