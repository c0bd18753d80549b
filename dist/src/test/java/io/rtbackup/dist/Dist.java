package io.rtbackup.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/** Where the build put the packages (dist/pom.xml passes the target dir and the version), and a log of figures. */
final class Dist {
    private Dist() {
    }

    static Path dir() {
        return Path.of(System.getProperty("rtb.dist.dir", "target")).toAbsolutePath();
    }

    static String version() {
        return System.getProperty("rtb.version");
    }

    /** The Debian version: Maven's with '~' for '-', so that 0.1.0~SNAPSHOT sorts before 0.1.0. */
    static String debVersion() {
        return version().replace('-', '~');
    }

    static Path deb() {
        return one("rtbackup_" + debVersion() + "_amd64.deb");
    }

    static Path tarball() {
        return one("rtbackup-" + version() + "-linux-x86_64.tar.gz");
    }

    private static Path one(String name) {
        Path p = dir().resolve(name);
        if (!Files.isRegularFile(p)) {
            List<String> there;
            try (Stream<Path> files = Files.list(dir())) {
                there = files.map(f -> f.getFileName().toString()).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new AssertionError("the build made no " + name + " in " + dir() + " (there: " + there + ")");
        }
        return p;
    }

    /** Prints a figure and appends it to target/dist-figures.txt, which outlives the redirected test output. */
    static void note(String format, Object... args) {
        String line = String.format(format, args);
        System.out.println(line);
        try {
            Files.writeString(dir().resolve("dist-figures.txt"), line + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
