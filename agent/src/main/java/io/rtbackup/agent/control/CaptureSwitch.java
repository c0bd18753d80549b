package io.rtbackup.agent.control;

import io.rtbackup.agent.capture.CaptureUnavailableException;
import java.util.Set;

/** What the switch needs of capture (the agent's capture pipeline in production). */
public interface CaptureSwitch {
    /** Watches every configured root except {@code paused}. */
    void watchAllBut(Set<String> paused) throws CaptureUnavailableException;

    /** Publishes a RESCAN of {@code rootId}: a whole-root sync through the workers, retried until it succeeds. */
    void rescan(String rootId, String why);
}
