package io.rtbackup.topics;

/**
 * The names of the five topics a deployment uses. Everything that talks to Kafka gets one of these injected, so
 * tests can run isolated pipelines on one shared broker by giving each a prefix.
 */
public record Topics(String events, String commands, String results, String dlq, String status) {

    public static Topics defaults() {
        return withPrefix("");
    }

    /** The catalog's names with {@code prefix} in front. */
    public static Topics withPrefix(String prefix) {
        return TopicCatalog.load().topics(prefix);
    }

    /** The topic name for a role of {@link TopicCatalog}: events, commands, results, dlq or status. */
    public String forRole(String role) {
        return switch (role) {
            case "events" -> events;
            case "commands" -> commands;
            case "results" -> results;
            case "dlq" -> dlq;
            case "status" -> status;
            default -> throw new IllegalArgumentException("unknown topic role '" + role + "'");
        };
    }
}
