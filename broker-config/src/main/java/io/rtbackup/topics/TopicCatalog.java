package io.rtbackup.topics;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The declarative topic list of {@code broker-config/topics.properties}: {@code <role>.name},
 * {@code <role>.partitions}, {@code <role>.replication.factor} and {@code <role>.config.<kafka topic config>}.
 */
public record TopicCatalog(List<TopicSpec> specs) {
    public static final List<String> ROLES = List.of("events", "commands", "results", "dlq", "status", "control", "rootstate");
    static final String RESOURCE = "/rtb/topics.properties";

    public TopicCatalog {
        specs = List.copyOf(specs);
    }

    /** The catalog shipped in the jar (the same file as {@code broker-config/topics.properties}). */
    public static TopicCatalog load() {
        try (InputStream in = TopicCatalog.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("topic catalog " + RESOURCE + " is missing from the classpath");
            Properties p = new Properties();
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            return parse(p, "classpath:" + RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read topic catalog " + RESOURCE, e);
        }
    }

    /** A catalog from an operator's file. */
    public static TopicCatalog load(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            return parse(p, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read topic catalog " + file + ": " + e.getMessage(), e);
        }
    }

    static TopicCatalog parse(Properties p, String origin) {
        for (String key : p.stringPropertyNames()) {
            String role = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
            if (!ROLES.contains(role)) {
                throw new IllegalArgumentException(origin + ": unknown key '" + key + "': every key starts with one of "
                    + ROLES);
            }
        }
        List<TopicSpec> specs = new ArrayList<>();
        for (String role : ROLES) {
            String name = required(p, origin, role + ".name");
            int partitions = positiveInt(p, origin, role + ".partitions");
            int rf = positiveInt(p, origin, role + ".replication.factor");
            Map<String, String> configs = new TreeMap<>();
            String prefix = role + ".config.";
            for (String key : p.stringPropertyNames()) {
                if (key.startsWith(prefix)) configs.put(key.substring(prefix.length()), p.getProperty(key).trim());
                else if (key.startsWith(role + ".") && !key.equals(role + ".name") && !key.equals(role + ".partitions")
                    && !key.equals(role + ".replication.factor")) {
                    throw new IllegalArgumentException(origin + ": unknown key '" + key + "' (expected " + role
                        + ".name, .partitions, .replication.factor or .config.<topic config>)");
                }
            }
            specs.add(new TopicSpec(role, name, partitions, (short) rf, configs));
        }
        return new TopicCatalog(specs);
    }

    /** The topic names of this catalog, each with {@code prefix} in front. */
    public Topics topics(String prefix) {
        return new Topics(prefix + spec("events").defaultName(), prefix + spec("commands").defaultName(),
            prefix + spec("results").defaultName(), prefix + spec("dlq").defaultName(),
            prefix + spec("status").defaultName(), prefix + spec("control").defaultName(),
            prefix + spec("rootstate").defaultName());
    }

    public TopicSpec spec(String role) {
        return specs.stream().filter(s -> s.role().equals(role)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no topic role '" + role + "' in the catalog"));
    }

    private static String required(Properties p, String origin, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) throw new IllegalArgumentException(origin + ": missing key '" + key + "'");
        return v.trim();
    }

    private static int positiveInt(Properties p, String origin, String key) {
        String v = required(p, origin, key);
        try {
            int n = Integer.parseInt(v);
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(origin + ": '" + key + "' must be a positive integer, got '" + v + "'");
        }
    }
}
