package io.rtbackup.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A throwaway certificate authority and one server certificate signed by it, made with the JDK's {@code keytool}
 * (argument lists, no shell; passwords through {@code -storepass:file}, never on the command line): a PKCS12
 * keystore with the server's key and chain, a PKCS12 truststore with the CA, and the password file of each
 * (mode 600). Everything lives under the given directory.
 */
public record TlsFiles(Path keystore, Path keystorePasswordFile, Path truststore, Path truststorePasswordFile) {
    private static final Duration KEYTOOL_TIMEOUT = Duration.ofSeconds(60);

    /** Creates the CA and a server certificate whose subject alternative names are {@code sans} (e.g. IP:127.0.0.1). */
    public static TlsFiles create(Path dir, String... sans) throws IOException {
        Files.createDirectories(dir);
        Path storePw = passwordFile(dir.resolve("keystore.password"));
        Path trustPw = passwordFile(dir.resolve("truststore.password"));
        Path caPw = passwordFile(dir.resolve("ca.password"));
        Path ca = dir.resolve("ca.p12");
        Path keystore = dir.resolve("server.p12");
        Path truststore = dir.resolve("truststore.p12");
        Path csr = dir.resolve("server.csr");
        Path caCert = dir.resolve("ca.crt");
        Path serverCert = dir.resolve("server.crt");
        String san = "SAN=" + String.join(",", sans);

        keytool("-genkeypair", "-alias", "ca", "-dname", "CN=rtbackup test CA", "-keyalg", "EC", "-groupname",
            "secp256r1", "-validity", "2", "-ext", "bc:c", "-storetype", "PKCS12", "-keystore", ca.toString(),
            "-storepass:file", caPw.toString());
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass:file", caPw.toString(),
            "-file", caCert.toString());
        keytool("-genkeypair", "-alias", "server", "-dname", "CN=rtbackup test broker", "-keyalg", "EC",
            "-groupname", "secp256r1", "-validity", "2", "-ext", san, "-storetype", "PKCS12", "-keystore",
            keystore.toString(), "-storepass:file", storePw.toString());
        keytool("-certreq", "-alias", "server", "-keystore", keystore.toString(), "-storepass:file",
            storePw.toString(), "-file", csr.toString());
        keytool("-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass:file", caPw.toString(),
            "-infile", csr.toString(), "-outfile", serverCert.toString(), "-rfc", "-validity", "2", "-ext", san,
            "-ext", "eku=serverAuth");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caCert.toString(), "-keystore",
            keystore.toString(), "-storepass:file", storePw.toString());
        keytool("-importcert", "-alias", "server", "-file", serverCert.toString(), "-keystore", keystore.toString(),
            "-storepass:file", storePw.toString());
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caCert.toString(), "-storetype", "PKCS12",
            "-keystore", truststore.toString(), "-storepass:file", trustPw.toString());
        return new TlsFiles(keystore, storePw, truststore, trustPw);
    }

    /** A new random password in {@code file}, readable only by its owner. */
    public static Path passwordFile(Path file) throws IOException {
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        return passwordFile(file, HexFormat.of().formatHex(random));
    }

    /** {@code password} in {@code file}, readable only by its owner (created so, never briefly readable by others). */
    public static Path passwordFile(Path file, String password) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, password + "\n", StandardCharsets.UTF_8);
        return file;
    }

    private static void keytool(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        ExternalCommand.Result r = ExternalCommand.of(cmd).timeout(KEYTOOL_TIMEOUT).run();
        if (r.exitCode() != 0) throw new IOException("keytool failed: " + r.describe());
    }
}
