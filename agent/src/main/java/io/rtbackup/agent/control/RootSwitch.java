package io.rtbackup.agent.control;

import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.exec.RootHold;
import io.rtbackup.agent.reconcile.Reconciliation;
import io.rtbackup.agent.state.PauseLedger;
import io.rtbackup.agent.state.RootPause;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.RootControlState;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pauses and resumes this host's roots, the agent's side of {@code rtb pause}/{@code rtb resume}.
 *
 * <p>A pause is stored durably in the {@link PauseLedger} first (a crash right after restarts paused), then capture
 * stops watching the root and its commands are held: as {@link RootHold} this class answers the executor, which
 * replies {@code REJECTED} with the pause's reason instead of running rsync. Workers give such commands up and
 * commit their events; that loses nothing, because replication is state-based and the resume brings the whole root
 * up to date. A resume is stored, capture watches the root again, commands run again, and then a whole-root
 * reconciliation per replica tree ({@code catchUp}) carries everything that changed while it was paused; the state
 * says how many paths it changed. A reconciliation that fails (a destination down) becomes a RESCAN of the root,
 * which the workers retry until it succeeds.
 *
 * <p>Each control command is applied once ({@link RootPause#commandId()}), so re-reading the control topic at every
 * start changes nothing already applied; a pause of a paused root keeps its start time and takes the new reason.
 * After every decision, and for every root at {@link #publishAll()}, the applied state goes to the {@link StateSink}.
 * Capture that cannot be set up again after a switch is a loss no rescan covers: the process ends through
 * {@code fatal}, and the restart applies the stored decisions. {@link #apply} is called from one thread (the control
 * listener); {@link #why} from any.
 */
public final class RootSwitch implements RootHold {
    private static final Logger log = LoggerFactory.getLogger(RootSwitch.class);

    private final String hostId;
    private final List<String> roots;
    private final PauseLedger ledger;
    private final CaptureSwitch capture;
    private final Function<String, List<Reconciliation>> catchUp;
    private final StateSink states;
    private final Clock clock;
    private final FatalErrorHandler fatal;

    /** @param catchUp reconciles every replica tree of a root now and returns what each run did */
    public RootSwitch(String hostId, List<String> roots, PauseLedger ledger, CaptureSwitch capture,
            Function<String, List<Reconciliation>> catchUp, StateSink states, Clock clock, FatalErrorHandler fatal) {
        this.hostId = hostId;
        this.roots = List.copyOf(roots);
        this.ledger = ledger;
        this.capture = capture;
        this.catchUp = catchUp;
        this.states = states;
        this.clock = clock;
        this.fatal = fatal;
    }

    /** The roots paused now (for capture's start). */
    public Set<String> paused() {
        return ledger.paused();
    }

    @Override
    public Optional<String> why(String rootId) {
        return ledger.get(rootId).filter(RootPause::paused).map(p -> "root " + rootId + " of host " + hostId
            + " is paused since " + Instant.ofEpochMilli(p.sinceMs()) + (p.issuedBy().isEmpty() ? "" : " by "
            + p.issuedBy()) + (p.reason().isEmpty() ? "" : " (" + p.reason() + ")") + "; its resume reconciles it");
    }

    /** Reports the state of every configured root, e.g. at start. */
    public void publishAll() {
        for (String root : roots) {
            RootPause p = ledger.get(root).orElse(new RootPause(root, false, 0, "", "", ""));
            states.publish(state(p, p.paused() ? "paused" : "active"));
        }
    }

    /** Applies {@code c} (already accepted for this host and a configured root) unless it was applied before. */
    public void apply(ControlCommand c) {
        String root = c.getRootId();
        Optional<RootPause> held = ledger.get(root);
        if (held.isPresent() && held.get().commandId().equals(c.getCommandId())) return;
        boolean wasPaused = held.map(RootPause::paused).orElse(false);
        String reason = c.getReason();
        String by = c.getIssuedBy();
        if (c.getAction() == ControlAction.PAUSE) {
            RootPause p = new RootPause(root, true, wasPaused ? held.get().sinceMs() : c.getIssuedAtMs(), reason, by,
                c.getCommandId());
            ledger.put(p);
            switchCapture();
            log.info("host {} root {}: paused by {} ({}): capture off, commands held", hostId, root, by, reason);
            states.publish(state(p, wasPaused ? "was already paused; reason updated" : "paused: capture and "
                + "commands off"));
            return;
        }
        RootPause r = new RootPause(root, false, 0, reason, by, c.getCommandId());
        ledger.put(r);
        switchCapture();
        if (!wasPaused) {
            states.publish(state(r, "was not paused; nothing to catch up"));
            return;
        }
        log.info("host {} root {}: resumed by {}; capture on, reconciling what changed while paused", hostId, root, by);
        states.publish(state(r, catchUp(root)));
    }

    private void switchCapture() {
        try {
            capture.watchAllBut(ledger.paused());
        } catch (CaptureUnavailableException | RuntimeException e) {
            fatal.fatal("capture after a pause switch", e);
        }
    }

    /** Reconciles {@code root} and says what it caught up; a failed tree becomes a rescan of the root. */
    private String catchUp(String root) {
        List<Reconciliation> runs = catchUp.apply(root);
        long changed = runs.stream().mapToLong(Reconciliation::differences).sum();
        List<Reconciliation> failed = runs.stream().filter(r -> !r.ok()).toList();
        String note = "resumed: caught up " + changed + " changed path(s) in " + runs.size() + " replica tree(s)";
        if (failed.isEmpty()) return note;
        String what = failed.stream().map(Reconciliation::describe).collect(Collectors.joining("; "));
        log.warn("host {} root {}: catching up after the pause failed ({}); a rescan of the root follows", hostId,
            root, what);
        capture.rescan(root, "catching up after a pause failed");
        return note + "; " + failed.size() + " failed (" + what + "): a rescan of the root follows";
    }

    private RootControlState state(RootPause p, String note) {
        return RootControlState.newBuilder().setHostId(hostId).setRootId(p.rootId()).setPaused(p.paused())
            .setSinceMs(p.paused() ? p.sinceMs() : 0).setReason(p.reason()).setIssuedBy(p.issuedBy())
            .setAppliedCommandId(p.commandId()).setNote(note).setPublishedAtMs(clock.millis()).build();
    }
}
