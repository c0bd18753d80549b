package io.rtbackup.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The single-node KRaft settings of {@code broker-config/server.properties}, with the ports and log dir of one
 * particular broker filled in.
 */
public record BrokerSettings(Path logDir, int port, int controllerPort, Map<String, String> overrides) {
    static final String RESOURCE = "/rtb/server.properties";

    public BrokerSettings {
        overrides = Map.copyOf(overrides);
    }

    /** Settings on free loopback ports. */
    public static BrokerSettings onFreePorts(Path logDir) {
        return new BrokerSettings(logDir, freePort(), freePort(), Map.of());
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The full broker configuration: the shipped file, then ports and log dir, then the overrides. */
    public Properties toProperties() {
        Properties p = new Properties();
        try (InputStream in = BrokerSettings.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("broker settings " + RESOURCE + " missing from the classpath");
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        String nodeId = p.getProperty("node.id", "1");
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("controller.quorum.voters", nodeId + "@127.0.0.1:" + controllerPort);
        p.setProperty("log.dirs", logDir.toAbsolutePath().toString());
        overrides.forEach(p::setProperty);
        return p;
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
