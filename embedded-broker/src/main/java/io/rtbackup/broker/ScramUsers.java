package io.rtbackup.broker;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each SCRAM user of a secure broker the password it was started with, creating the users that do not
 * exist yet: the operator's list of users and password files is the truth at every start, so a changed password
 * file takes effect on restart. Runs as the super user over the broker's own SASL_SSL listener. Users no longer
 * listed are left alone (removing a login is a deliberate act: {@code kafka-configs.sh --delete-config}).
 */
final class ScramUsers {
    private static final Logger log = LoggerFactory.getLogger(ScramUsers.class);
    /** Above Kafka's minimum of 4096; the cost is paid once per connection. */
    static final int ITERATIONS = 8192;
    private static final long TIMEOUT_MS = 60_000;

    private ScramUsers() {
    }

    static void apply(BrokerSettings settings) throws ExecutionException, InterruptedException, TimeoutException {
        BrokerSecurity security = settings.security().orElseThrow();
        if (security.users().isEmpty()) return;
        Properties props = new Properties();
        props.putAll(settings.adminClientProperties());
        props.put("client.id", "rtb-broker-users");
        List<UserScramCredentialAlteration> upserts = security.users().entrySet().stream()
            .map(ScramUsers::upsert).toList();
        try (Admin admin = Admin.create(props)) {
            admin.alterUserScramCredentials(upserts).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        log.info("SCRAM users set on {}: {}", settings.bootstrapServers(), security.users().keySet());
    }

    private static UserScramCredentialAlteration upsert(Map.Entry<String, String> user) {
        return new UserScramCredentialUpsertion(user.getKey(),
            new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), user.getValue());
    }
}
