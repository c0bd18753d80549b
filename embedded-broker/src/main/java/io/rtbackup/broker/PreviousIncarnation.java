package io.rtbackup.broker;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.BrokerIdNotRegisteredException;
import org.apache.kafka.common.errors.NotControllerException;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.controller.Controller;
import org.apache.kafka.controller.ControllerRequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a killed incarnation's broker registration off this node's own controller before the new incarnation
 * registers. Without it, a restarted controller takes the registration it finds in its metadata log for a live
 * broker and refuses the new incarnation's registration ({@code DuplicateBrokerRegistrationException}) until that
 * registration's session ({@code broker.session.timeout.ms}) expires: seconds of every restart after a crash.
 *
 * <p>Why this is safe: in a combined single node (the only shape {@link KraftNode} runs), a registration the
 * controller holds before this node's broker has started is a previous incarnation of that broker, dead with the
 * previous process: {@link KraftNode} starts the broker only after {@link #release} returned, so it cannot be the new
 * one, and no other process runs a broker on this log dir meanwhile ({@link LogDirLock} is held). Unregistering it does to the partitions
 * what fencing it at the session's end does: the broker leaves every ISR (Kafka's
 * {@code ReplicationControlManager.handleBrokerUnregistered} and {@code handleBrokerFenced} run the same leader and
 * ISR change, which on an ELR cluster keeps it as the last known leader); the replica assignments and the log on
 * disk are untouched. The new incarnation then registers and is elected exactly as after a fencing, with all its
 * data.
 *
 * <p>Only for a broker that did not stop cleanly (no {@code .kafka_cleanshutdown} in its log dir): a clean stop
 * fenced its registration already (nothing to wait for), and its new incarnation registers as a clean restart only
 * while that registration, whose epoch the clean-shutdown file names, is still there. After a kill the registration
 * is taken as an unclean shutdown whether it is there or not.
 *
 * <p>Contract: returns once the registration is gone, there was none, or {@code timeout} passed; a failure only
 * costs the session wait it was meant to save (the broker's registration is then accepted when the session ends), so
 * it is logged and the start goes on.
 */
final class PreviousIncarnation {
    private static final Logger log = LoggerFactory.getLogger(PreviousIncarnation.class);
    private static final long RETRY_MS = 20;

    private PreviousIncarnation() {
    }

    /**
     * Unregisters broker {@code nodeId} from {@code controller}, waiting up to {@code timeout} for it to become the
     * active controller. Must be called before this node's broker starts.
     *
     * @return whether a registration was taken off
     */
    static boolean release(Controller controller, int nodeId, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (true) {
            ControllerRequestContext context = new ControllerRequestContext(new RequestHeaderData(),
                KafkaPrincipal.ANONYMOUS, ControllerRequestContext.requestTimeoutMsToDeadlineNs(Time.SYSTEM, 5_000));
            try {
                controller.unregisterBroker(context, nodeId).get(10, TimeUnit.SECONDS);
                log.info("took the previous incarnation's registration of broker {} off the controller after {} ms; "
                    + "the new incarnation registers without waiting for its session to expire", nodeId,
                    (System.nanoTime() - start) / 1_000_000);
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof BrokerIdNotRegisteredException) {
                    log.debug("no previous registration of broker {} to take off", nodeId);
                    return false;
                }
                if (!(e.getCause() instanceof NotControllerException)) {
                    return gaveUp(nodeId, e.getCause());
                }
                // not the active controller yet: it is still electing itself or loading the metadata log
            } catch (TimeoutException e) {
                return gaveUp(nodeId, e);
            }
            if (System.nanoTime() > deadline) {
                return gaveUp(nodeId, new TimeoutException("the controller was not active within " + timeout));
            }
            Thread.sleep(RETRY_MS);
        }
    }

    private static boolean gaveUp(int nodeId, Throwable why) {
        log.warn("could not take the previous incarnation's registration of broker {} off the controller ({}); the "
            + "broker registers once that registration's session expires (broker.session.timeout.ms)", nodeId,
            why.toString());
        return false;
    }
}
