package io.rtbackup.cli;

import io.rtbackup.broker.BrokerSecurity;
import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb broker}: a single-node KRaft broker with the rtbackup topics, in the foreground. On loopback it runs
 * PLAINTEXT; to serve a fleet ({@code --listen 0.0.0.0:9092}) it must be given a keystore and SCRAM users, and
 * then runs SASL_SSL with Kafka's StandardAuthorizer (see docs/security-kafka.md). There is no way to listen beyond
 * loopback without authentication.
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka (KRaft) broker with the rtbackup topics until interrupted.")
final class BrokerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--state-dir", description = "Broker log dir parent (default: ${DEFAULT-VALUE}).",
        defaultValue = "${user.home}/.rtb")
    Path stateDir;

    @Option(names = "--port", description = "Client port on 127.0.0.1 (default: ${DEFAULT-VALUE}).", defaultValue = "9092")
    int port;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Client listener address instead of "
        + "127.0.0.1:--port, e.g. 0.0.0.0:9092 for a fleet; beyond loopback it needs --keystore and the password files.")
    String listen;

    @Option(names = "--advertise", paramLabel = "HOST", description = "Host name clients are told to connect to "
        + "(must match the certificate; default: the listen address, or this host's name when it is 0.0.0.0).")
    String advertise;

    @Option(names = "--controller-port", description = "KRaft controller port on 127.0.0.1 (default: ${DEFAULT-VALUE}).",
        defaultValue = "9093")
    int controllerPort;

    @Option(names = "--keystore", description = "PKCS12 keystore with the broker's key and certificate: "
        + "turns on SASL_SSL with SCRAM-SHA-512 logins and ACLs.")
    Path keystore;

    @Option(names = "--keystore-password-file", description = "File (mode 600) holding the keystore's password.")
    Path keystorePasswordFile;

    @Option(names = "--truststore", description = "PKCS12 truststore with the CA of the broker's certificate "
        + "(for the broker's own admin connection; default: the JDK's CAs).")
    Path truststore;

    @Option(names = "--truststore-password-file", description = "File (mode 600) holding the truststore's password.")
    Path truststorePasswordFile;

    @Option(names = "--admin-password-file", description = "File (mode 600) holding the password of the super "
        + "user 'admin' (created when the state dir is first formatted).")
    Path adminPasswordFile;

    @Option(names = "--user", paramLabel = "NAME=PASSWORD_FILE", description = "A SCRAM user and the file (mode 600) "
        + "holding its password; repeatable. Set (created or updated) at every start.")
    Map<String, Path> users = new LinkedHashMap<>();

    @Override
    public Integer call() throws InterruptedException {
        BrokerSettings settings = settings();
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "rtb-broker-shutdown"));
        TopicProvisioner.ensure(settings.adminClientProperties(), Topics.defaults());
        System.out.println("rtb broker: Kafka at " + broker.bootstrapServers() + " ("
            + (settings.security().isPresent() ? "SASL_SSL, SCRAM users " + users.keySet() : "PLAINTEXT, loopback only")
            + ", state " + stateDir + "), topics ready; Ctrl-C stops it");
        System.out.flush();
        stopped.await();
        return 0;
    }

    private BrokerSettings settings() {
        String host = "127.0.0.1";
        int clientPort = port;
        if (listen != null) {
            int colon = listen.lastIndexOf(':');
            try {
                if (colon <= 0) throw new NumberFormatException();
                host = listen.substring(0, colon);
                clientPort = Integer.parseInt(listen.substring(colon + 1));
                if (clientPort < 1 || clientPort > 65535) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw usage("--listen " + listen + ": expected HOST:PORT, e.g. 0.0.0.0:9092");
            }
        }
        Optional<BrokerSecurity> security = security();
        String advertised = advertise != null ? advertise : advertisedDefault(host);
        try {
            return new BrokerSettings(stateDir.resolve("kafka"), host, advertised, clientPort, controllerPort, security,
                Map.of());
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private Optional<BrokerSecurity> security() {
        boolean any = keystore != null || keystorePasswordFile != null || adminPasswordFile != null
            || truststore != null || truststorePasswordFile != null || !users.isEmpty();
        if (!any) return Optional.empty();
        if (keystore == null || keystorePasswordFile == null || adminPasswordFile == null) {
            throw usage("a secure broker needs --keystore, --keystore-password-file and --admin-password-file "
                + "together (see docs/security-kafka.md)");
        }
        try {
            return Optional.of(BrokerSecurity.fromFiles(keystore, keystorePasswordFile, Optional.ofNullable(truststore),
                Optional.ofNullable(truststorePasswordFile), adminPasswordFile, users));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private String advertisedDefault(String host) {
        if (!host.equals("0.0.0.0") && !host.equals("::") && !host.equals("[::]")) return host;
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            throw usage("--listen " + listen + ": cannot find this host's name to advertise (" + e.getMessage()
                + "); pass --advertise HOST");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), "rtb broker: " + message);
    }
}
