package io.rtbackup.kafka;

import java.nio.file.Path;

/** A security setting that cannot be used; the message names the setting, the value and what to do about it. */
public final class SettingException extends IllegalArgumentException {
    private final String setting;
    private final String problem;

    public SettingException(String setting, String problem) {
        super(setting + ": " + problem);
        this.setting = setting;
        this.problem = problem;
    }

    SettingException(String setting, Path file, String problem) {
        this(setting, file + ": " + problem);
    }

    /** The setting at fault, as the operator wrote it (e.g. {@code kafka.sasl.password.file}). */
    public String setting() {
        return setting;
    }

    /** What is wrong and what to do, without the setting's name (for config errors that add it themselves). */
    public String problem() {
        return problem;
    }
}
