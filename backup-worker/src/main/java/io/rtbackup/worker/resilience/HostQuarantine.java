package io.rtbackup.worker.resilience;

import io.rtbackup.worker.config.RetrySettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-host backoff of one destination. A host whose command went unanswered (dead, stopped, partitioned) or failed
 * on its own side (its clock made the command "expired", its rsync could not run) is quarantined: its next command
 * may go only after a backoff that grows with each further failure ({@code retry.*}: initial backoff times
 * multiplier, up to the max backoff), and only one at a time. Any answer that shows the host working (a result
 * other than a host-side failure) lifts the quarantine. These failures never reach the destination's breaker: one
 * bad host must not hold the destination back for the others.
 *
 * <p>Several commands of a host that were already out when it was quarantined (one per root, say) fail together;
 * only failures of commands sent after the last recorded one make the backoff grow.
 *
 * <p>Single-threaded (the pipeline thread); time comes from the injected monotonic clock.
 */
public final class HostQuarantine {
    private static final Logger log = LoggerFactory.getLogger(HostQuarantine.class);

    /** A quarantined host as the status shows it: {@code releaseInMs} until its next command may go (0: now). */
    public record Quarantined(String host, int failures, long releaseInMs, String reason) {
    }

    private static final class State {
        int failures;
        long lastFailureNs;
        long releaseAtNs;
        String reason;
    }

    private final String destination;
    private final long initialMs;
    private final double multiplier;
    private final long maxMs;
    private final LongSupplier nanos;
    private final Map<String, State> hosts = new HashMap<>();

    public HostQuarantine(String destination, RetrySettings backoff, LongSupplier nanoClock) {
        this.destination = destination;
        this.initialMs = backoff.initialBackoff().toMillis();
        this.multiplier = backoff.multiplier();
        this.maxMs = backoff.maxBackoff().toMillis();
        this.nanos = nanoClock;
    }

    /**
     * A command of {@code host} sent at {@code issuedNs} failed because of the host. Returns how long (ms) the host's
     * next command waits from now.
     */
    public long failed(String host, long issuedNs, String reason) {
        long now = nanos.getAsLong();
        State s = hosts.get(host);
        if (s != null && issuedNs <= s.lastFailureNs) {
            // Sent before the failure that quarantined the host: the same outage, not a further one.
            return Math.max(0, (s.releaseAtNs - now) / 1_000_000);
        }
        boolean fresh = s == null;
        if (fresh) {
            s = new State();
            hosts.put(host, s);
        }
        s.failures++;
        long delayMs = backoffMs(s.failures);
        s.lastFailureNs = now;
        s.releaseAtNs = now + delayMs * 1_000_000L;
        s.reason = reason;
        if (fresh) {
            log.warn("destination {}: host {} quarantined ({}); its commands wait, the destination's other hosts go on",
                destination, host, reason);
        } else {
            log.info("destination {}: host {} still failing ({} failures: {}); next try in {} ms", destination, host,
                s.failures, reason, delayMs);
        }
        return delayMs;
    }

    /** {@code host} answered and did its part: it leaves quarantine. Returns whether it was quarantined. */
    public boolean answered(String host) {
        State s = hosts.remove(host);
        if (s == null) return false;
        log.info("destination {}: host {} answers again after {} failure(s); quarantine lifted", destination, host,
            s.failures);
        return true;
    }

    public boolean isQuarantined(String host) {
        return hosts.containsKey(host);
    }

    /** When a quarantined host's next command may go; {@code Long.MIN_VALUE} for a host that is not quarantined. */
    public long releaseAtNs(String host) {
        State s = hosts.get(host);
        return s == null ? Long.MIN_VALUE : s.releaseAtNs;
    }

    /** The quarantined hosts, in no particular order. */
    public List<Quarantined> snapshot() {
        long now = nanos.getAsLong();
        List<Quarantined> out = new ArrayList<>(hosts.size());
        hosts.forEach((h, s) -> out.add(new Quarantined(h, s.failures,
            Math.max(0, (s.releaseAtNs - now) / 1_000_000), s.reason)));
        return out;
    }

    private long backoffMs(int failures) {
        double ms = initialMs * Math.pow(multiplier, failures - 1);
        return ms >= maxMs ? maxMs : (long) ms;
    }
}
