package io.rtbackup.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** A command's {@code --config} file, read as UTF-8 properties; unreadable is a usage error naming the file. */
final class PropertiesFile {
    private PropertiesFile() {
    }

    static Properties load(CommandSpec spec, Path config) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--config: cannot read " + config + ": " + e.getMessage());
        }
        return props;
    }
}
