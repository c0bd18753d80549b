package io.rtbackup.agent.versions;

import io.rtbackup.agent.config.ExecConfig.Versions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Which version dirs a retention policy removes. */
public final class Retention {
    private Retention() {
    }

    /**
     * The stamps to delete from {@code stamps} at {@code now}: those older than the age limit and those beyond
     * the newest {@code keepCount}; either limit alone removes a dir. Oldest first.
     */
    public static List<VersionStamp> expired(List<VersionStamp> stamps, Versions policy, Instant now) {
        List<VersionStamp> sorted = new ArrayList<>(stamps);
        sorted.sort(null);
        List<VersionStamp> out = new ArrayList<>();
        int beyondCount = policy.keepCount() == 0 ? 0 : Math.max(0, sorted.size() - policy.keepCount());
        Instant oldestKept = policy.maxAge().map(now::minus).orElse(Instant.MIN);
        for (int i = 0; i < sorted.size(); i++) {
            VersionStamp s = sorted.get(i);
            if (i < beyondCount || s.at().isBefore(oldestKept)) out.add(s);
        }
        return out;
    }
}
