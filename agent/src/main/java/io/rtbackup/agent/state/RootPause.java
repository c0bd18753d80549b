package io.rtbackup.agent.state;

/**
 * The last switch decision applied to one root: paused or not, since when (the issuer's time of the pause), why and
 * by whom, and which control command it was ({@code commandId}: the agent applies each command once).
 */
public record RootPause(String rootId, boolean paused, long sinceMs, String reason, String issuedBy,
        String commandId) {
    public RootPause {
        if (rootId == null || rootId.isEmpty()) throw new IllegalArgumentException("root id must not be empty");
        reason = reason == null ? "" : reason;
        issuedBy = issuedBy == null ? "" : issuedBy;
        commandId = commandId == null ? "" : commandId;
    }
}
