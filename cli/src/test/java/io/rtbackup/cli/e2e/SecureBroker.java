package io.rtbackup.cli.e2e;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.cli.Rtb;
import io.rtbackup.testkit.TlsFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * {@code rtb broker} in its own JVM as an operator runs it for a fleet: SASL_SSL on loopback with a certificate
 * for IP 127.0.0.1 from a throwaway CA, the super user {@code admin} and one SCRAM user per name given, every
 * password in an owner-only file under {@code dir}. Writes client config files for each user.
 */
final class SecureBroker implements KafkaBroker {
    private static final String READY = "rtb broker: Kafka at ";

    final Path dir;
    final TlsFiles tls;
    final int port;
    private final Process process;
    private final Path log;

    private SecureBroker(Path dir, TlsFiles tls, int port, Process process, Path log) {
        this.dir = dir;
        this.tls = tls;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    static SecureBroker start(Path dir, String... users) throws IOException, InterruptedException {
        TlsFiles tls = TlsFiles.create(dir.resolve("tls"), "IP:127.0.0.1");
        int port = freePort();
        List<String> args = new ArrayList<>(List.of("broker", "--state-dir", dir.resolve("state").toString(),
            "--listen", "127.0.0.1:" + port, "--controller-port", String.valueOf(freePort()),
            "--keystore", tls.keystore().toString(), "--keystore-password-file", tls.keystorePasswordFile().toString(),
            "--truststore", tls.truststore().toString(),
            "--truststore-password-file", tls.truststorePasswordFile().toString(),
            "--admin-password-file", TlsFiles.passwordFile(dir.resolve("admin.password")).toString()));
        for (String user : users) {
            args.addAll(List.of("--user", user + "=" + TlsFiles.passwordFile(dir.resolve(user + ".password"))));
        }
        Path log = dir.resolve("broker.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Rtb.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            if (out.contains(READY)) return new SecureBroker(dir, tls, port, p, log);
            if (!p.isAlive()) throw new IllegalStateException("rtb broker exited " + p.exitValue() + ": " + out);
            Thread.sleep(200);
        }
        p.destroyForcibly();
        throw new IllegalStateException("rtb broker not ready in 180 s: " + Files.readString(log));
    }

    /** The kafka.* settings of a client logging in as {@code user} with the password in {@code passwordFile}. */
    Map<String, String> clientSection(String user, Path passwordFile) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("bootstrap.servers", bootstrapServers());
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.username", user);
        p.put("sasl.password.file", passwordFile.toString());
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.location", tls.truststore().toString());
        p.put("ssl.truststore.password.file", tls.truststorePasswordFile().toString());
        return p;
    }

    /** The kafka.* settings of {@code user}, with the password the broker was given. */
    Map<String, String> clientSection(String user) {
        return clientSection(user, passwordFile(user));
    }

    Path passwordFile(String user) {
        return dir.resolve(user + ".password");
    }

    /** A config file with {@code section} as its kafka.* keys. */
    Path configFile(String name, Map<String, String> section) throws IOException {
        Properties p = new Properties();
        section.forEach((k, v) -> p.setProperty("kafka." + k, v));
        Path file = dir.resolve(name + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            p.store(out, null);
        }
        return file;
    }

    @Override
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    @Override
    public String kind() {
        return "rtb-broker-process";
    }

    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
