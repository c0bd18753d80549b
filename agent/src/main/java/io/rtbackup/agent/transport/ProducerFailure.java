package io.rtbackup.agent.transport;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * Which send failures no retry or rescan gets past, for every user of the agent's producer. A record that Kafka
 * refused or timed out is retried or rescanned by its sender; these instead fail every later record too (the
 * principal may not write, the broker cannot speak the protocol), so a sender that meets one hands it to the
 * {@link io.rtbackup.process.FatalErrorHandler} and the process ends: a restart with fixed settings or ACLs covers
 * what was in flight.
 *
 * <p>An {@code OutOfOrderSequenceException} is not one of them: the idempotent producer gets past a sequence gap of
 * one partition by bumping its epoch, so only the records it failed are lost, and their senders cover those as any
 * other undelivered record (events: a RESCAN), as before the producer was shared.
 */
public final class ProducerFailure {
    private ProducerFailure() {
    }

    /** Whether {@code e} (or a cause of it) is a failure the producer does not get over. */
    public static boolean isFatal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthenticationException || t instanceof AuthorizationException
                    || t instanceof UnsupportedVersionException || t instanceof ProducerFencedException) {
                return true;
            }
        }
        return false;
    }

    /** What to tell the operator along with {@code e}. */
    public static String advice(Throwable e) {
        return "the agent's Kafka producer cannot go on (" + e + "); check the kafka.* settings (credentials) and "
            + "the ACLs of the agent's principal (rtb acl), and that the brokers run a supported Kafka version";
    }
}
