package io.rtbackup.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version and commit this CLI was built from, as the build wrote them into {@code build-info.properties}
 * (cli/pom.xml fills in the Maven version and {@code git describe --always --dirty}, or "unknown" for a checkout
 * without git). A class path without the resource (classes run straight from an IDE) reads as "unknown" too.
 */
record BuildInfo(String version, String commit) {
    static final String RESOURCE = "build-info.properties";

    static BuildInfo ofThisBuild() {
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return new BuildInfo("unknown", "unknown");
            Properties p = new Properties();
            p.load(in);
            return new BuildInfo(p.getProperty("version", "unknown"), p.getProperty("commit", "unknown"));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE + " from the rtb jar", e);
        }
    }

    /** One line for {@code rtb --version}: {@code rtb 0.1.0 (commit 1a2b3c4)}. */
    String describe() {
        return "rtb " + version + " (commit " + commit + ")";
    }
}
