package io.rtbackup.topics;

/**
 * The names of the seven topics a deployment uses. Everything that talks to Kafka gets one of these injected, so
 * tests can run isolated pipelines on one shared broker by giving each a prefix.
 */
public record Topics(String events, String commands, String results, String dlq, String status, String control,
        String rootState) {

    /**
     * The five data-path topics named explicitly; the two topics of the pause switch sit beside the status topic,
     * named as the catalog declares them: the status topic's name with {@code status} at the end replaced by
     * {@code control} and {@code root-state} ({@code t.rtb.status} -> {@code t.rtb.control}, {@code t.rtb.root-state}).
     */
    public Topics(String events, String commands, String results, String dlq, String status) {
        this(events, commands, results, dlq, status, beside(status, "control"), beside(status, "root-state"));
    }

    private static String beside(String status, String name) {
        return (status.endsWith("status") ? status.substring(0, status.length() - "status".length()) : status + ".")
            + name;
    }

    public static Topics defaults() {
        return withPrefix("");
    }

    /** The catalog's names with {@code prefix} in front. */
    public static Topics withPrefix(String prefix) {
        return TopicCatalog.load().topics(prefix);
    }

    /** The topic name for a role of {@link TopicCatalog}: events, commands, results, dlq, status, control or rootstate. */
    public String forRole(String role) {
        return switch (role) {
            case "events" -> events;
            case "commands" -> commands;
            case "results" -> results;
            case "dlq" -> dlq;
            case "status" -> status;
            case "control" -> control;
            case "rootstate" -> rootState;
            default -> throw new IllegalArgumentException("unknown topic role '" + role + "'");
        };
    }
}
