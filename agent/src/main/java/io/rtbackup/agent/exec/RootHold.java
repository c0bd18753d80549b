package io.rtbackup.agent.exec;

import java.util.Optional;

/**
 * Whether the commands of a root are held back (the operator paused it), and why. The executor asks just before
 * it would look at a command's paths; a held command is answered {@code REJECTED} with the reason and never runs
 * rsync. That answer lets the worker give the command up and commit its events, which is safe because the root's
 * resume runs a whole-root reconciliation that carries every change the given-up commands would have carried.
 */
@FunctionalInterface
public interface RootHold {
    /** Nothing is ever held. */
    RootHold NONE = rootId -> Optional.empty();

    /** Why commands for {@code rootId} are held now; empty when they run. */
    Optional<String> why(String rootId);
}
