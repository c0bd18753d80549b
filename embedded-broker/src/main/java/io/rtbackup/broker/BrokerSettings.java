package io.rtbackup.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The single-node KRaft settings of {@code broker-config/server.properties}, with the address, ports, log dir and
 * security of one particular broker filled in.
 *
 * <p>The rule of what may listen where lives here: a broker without {@link BrokerSecurity} listens on loopback only
 * (PLAINTEXT); one that listens on any other address must have it (SASL_SSL with SCRAM users and ACLs). The
 * controller listener is always on 127.0.0.1.
 */
public record BrokerSettings(Path logDir, String listenHost, String advertisedHost, int port, int controllerPort,
                             Optional<BrokerSecurity> security, Map<String, String> overrides) {
    static final String RESOURCE = "/rtb/server.properties";
    static final String LOOPBACK = "127.0.0.1";

    public BrokerSettings {
        overrides = Map.copyOf(overrides);
        if (security.isEmpty() && !isLoopback(listenHost)) {
            throw new IllegalArgumentException("refusing to listen on " + listenHost + " without authentication: a "
                + "broker reachable beyond loopback needs TLS and SCRAM users (--keystore, --keystore-password-file, "
                + "--admin-password-file, --user; see docs/security-kafka.md), or listen on 127.0.0.1");
        }
    }

    /** A PLAINTEXT broker on 127.0.0.1, as the single-host mode and the tests run it. */
    public BrokerSettings(Path logDir, int port, int controllerPort, Map<String, String> overrides) {
        this(logDir, LOOPBACK, LOOPBACK, port, controllerPort, Optional.empty(), overrides);
    }

    /** Settings on free loopback ports. */
    public static BrokerSettings onFreePorts(Path logDir) {
        return new BrokerSettings(logDir, freePort(), freePort(), Map.of());
    }

    /** A SASL_SSL broker on free loopback ports, advertised as 127.0.0.1 (its certificate must name that IP). */
    public static BrokerSettings secureOnFreePorts(Path logDir, BrokerSecurity security) {
        return new BrokerSettings(logDir, LOOPBACK, LOOPBACK, freePort(), freePort(), Optional.of(security), Map.of());
    }

    public String bootstrapServers() {
        return advertisedHost + ":" + port;
    }

    /** Where this host reaches the client port: the listen address, or loopback when it is the wildcard. */
    String localAddress() {
        return isWildcard(listenHost) ? LOOPBACK : listenHost;
    }

    /**
     * What a client of ours needs to reach this broker with full rights: bootstrap.servers and, on a secure
     * broker, the super user's login and the truststore.
     */
    public Map<String, String> adminClientProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("bootstrap.servers", bootstrapServers());
        security.ifPresent(s -> p.putAll(s.adminClientProperties()));
        return p;
    }

    /** The full broker configuration: the shipped file, then address, ports, log dir and security, then overrides. */
    public Properties toProperties() {
        Properties p = new Properties();
        try (InputStream in = BrokerSettings.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("broker settings " + RESOURCE + " missing from the classpath");
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        String nodeId = p.getProperty("node.id", "1");
        String controller = "CONTROLLER://" + LOOPBACK + ":" + controllerPort;
        if (security.isPresent()) {
            p.setProperty("listeners", "SASL_SSL://" + listenHost + ":" + port + "," + controller);
            p.setProperty("advertised.listeners", "SASL_SSL://" + bootstrapServers());
            p.setProperty("inter.broker.listener.name", "SASL_SSL");
            p.setProperty("listener.security.protocol.map", "CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL");
            security.get().brokerProperties().forEach(p::setProperty);
        } else {
            p.setProperty("listeners", "PLAINTEXT://" + listenHost + ":" + port + "," + controller);
            p.setProperty("advertised.listeners", "PLAINTEXT://" + bootstrapServers());
        }
        p.setProperty("controller.quorum.voters", nodeId + "@" + LOOPBACK + ":" + controllerPort);
        p.setProperty("log.dirs", logDir.toAbsolutePath().toString());
        overrides.forEach(p::setProperty);
        return p;
    }

    static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    static boolean isLoopback(String host) {
        if (isWildcard(host)) return false;
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) if (!a.isLoopbackAddress()) return false;
            return true;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the listen address '" + host + "': " + e.getMessage(), e);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }
}
