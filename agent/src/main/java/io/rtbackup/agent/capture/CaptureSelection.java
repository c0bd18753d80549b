package io.rtbackup.agent.capture;

import io.rtbackup.agent.capture.fanotify.FanotifyLib;
import io.rtbackup.agent.capture.fanotify.FanotifySource;
import io.rtbackup.agent.capture.inotify.InotifySource;
import io.rtbackup.agent.capture.scan.ScanSource;
import io.rtbackup.agent.config.CaptureConfig.SourceChoice;
import io.rtbackup.process.FatalErrorHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the capture source: by configuration, or automatically the first that starts on this host, in the
 * order kernel module, fanotify, inotify, scan (the scan always works, with one interval of latency).
 */
public final class CaptureSelection {

    private static final Logger log = LoggerFactory.getLogger(CaptureSelection.class);

    /** A source by its config name, created fresh for each attempt. */
    public record Candidate(SourceChoice choice, Supplier<CaptureSource> factory) {}

    private final List<Candidate> candidates;

    /** @param candidates in auto-selection order */
    public CaptureSelection(List<Candidate> candidates) {
        this.candidates = List.copyOf(candidates);
    }

    /**
     * kmod (when {@code kmod} is not null), fanotify, inotify, scan.
     *
     * @param kmod  creates the kernel-module source; null when this build has none
     * @param fatal given to each source: told when a change can be neither delivered nor covered by a rescan
     */
    public static CaptureSelection standard(Supplier<CaptureSource> kmod, Duration scanInterval,
            FatalErrorHandler fatal) {
        List<Candidate> list = new ArrayList<>();
        if (kmod != null) list.add(new Candidate(SourceChoice.KMOD, kmod));
        list.add(new Candidate(SourceChoice.FANOTIFY, () -> new FanotifySource(fatal)));
        list.add(new Candidate(SourceChoice.INOTIFY, () -> new InotifySource(fatal)));
        list.add(new Candidate(SourceChoice.SCAN, () -> new ScanSource(scanInterval, fatal)));
        return new CaptureSelection(list);
    }

    /**
     * Why an explicitly chosen source cannot run on this host, found without starting it; empty when nothing
     * rules it out (it may still fail to start). Only fanotify has such a probe: its permission check fails
     * the configuration early instead of the first start. {@code AUTO} is never ruled out: it falls back.
     */
    public static Optional<String> unusable(SourceChoice choice) {
        if (choice != SourceChoice.FANOTIFY) return Optional.empty();
        return FanotifyLib.probe().map(problem -> "fanotify is not usable here: " + problem
                + "; run the agent as root (CAP_SYS_ADMIN) or set capture.source=inotify");
    }

    /**
     * Starts the chosen source (or, for {@code AUTO}, the first that starts) delivering into the sink that
     * {@code sinks} gives for it.
     *
     * @throws CaptureUnavailableException naming every source tried and why it could not run
     */
    public CaptureSource start(SourceChoice choice, List<WatchedRoot> roots, Function<CaptureSource, ChangeSink> sinks)
            throws CaptureUnavailableException {
        List<String> reasons = new ArrayList<>();
        for (Candidate c : candidates) {
            if (choice != SourceChoice.AUTO && c.choice() != choice) continue;
            CaptureSource source = c.factory().get();
            try {
                source.start(roots, sinks.apply(source));
                log.info("capture source {} started{}", source.name(), choice == SourceChoice.AUTO
                        ? " (auto-selected" + (reasons.isEmpty() ? ")" : " after " + reasons + ")") : "");
                return source;
            } catch (CaptureUnavailableException e) {
                source.close();
                reasons.add(c.choice().key() + ": " + e.getMessage());
                log.info("capture source {} unavailable: {}", c.choice().key(), e.getMessage());
            }
        }
        if (reasons.isEmpty()) {
            throw new CaptureUnavailableException("capture.source=" + choice.name().toLowerCase(Locale.ROOT)
                    + " is not available in this build");
        }
        throw new CaptureUnavailableException("no capture source could start (capture.source="
                + choice.key() + "): " + String.join("; ", reasons));
    }
}
