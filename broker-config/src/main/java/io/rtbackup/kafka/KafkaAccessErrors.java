package io.rtbackup.kafka;

import java.util.Optional;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * Says in the operator's terms why Kafka turned a client away, naming the {@code kafka.*} settings to check: a
 * refused SASL login, a TLS handshake that failed, or an ACL that does not allow the operation. Other failures are
 * not this class's business ({@link Optional#empty()}).
 */
public final class KafkaAccessErrors {
    private KafkaAccessErrors() {
    }

    /** The explanation for the first access failure in {@code failure}'s cause chain, if there is one. */
    public static Optional<String> explain(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SaslAuthenticationException) {
                return Optional.of("Kafka refused the login (" + t.getMessage() + "): check kafka."
                    + KafkaClientSettings.SASL_USERNAME + ", kafka." + KafkaClientSettings.SASL_PASSWORD_FILE
                    + " and kafka.sasl.mechanism against the broker's SCRAM users");
            }
            if (t instanceof SslAuthenticationException) {
                return Optional.of("the TLS handshake with Kafka failed (" + rootMessage(t) + "): check "
                    + "kafka.ssl.truststore.location (it must hold the CA that signed the broker's certificate) and "
                    + "that the broker's certificate names the host in kafka.bootstrap.servers");
            }
            if (t instanceof AuthorizationException) {
                return Optional.of("Kafka's ACLs do not allow this (" + t.getMessage() + "): grant the principal "
                    + "of kafka." + KafkaClientSettings.SASL_USERNAME + " its role's ACLs with rtb acl "
                    + "(see docs/security-kafka.md)");
            }
        }
        return Optional.empty();
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root.getMessage();
    }
}
