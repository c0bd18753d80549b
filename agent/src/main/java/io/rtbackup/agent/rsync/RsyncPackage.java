package io.rtbackup.agent.rsync;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What the distribution's package manager says about an rsync binary, for {@link RsyncVersion}: a distribution may
 * carry security fixes in a build whose upstream version number is old, and only its package version shows it.
 * Answers are the package manager's; this interface does not judge them.
 */
public interface RsyncPackage {
    /**
     * The version of the distribution's {@code rsync} package when that package installed exactly {@code binary}
     * (a real path, links resolved); empty when no package manager answers or another package (or none) owns it.
     */
    Optional<String> versionOwning(Path binary);

    /** Whether package version {@code version} is at least {@code floor}, by the package manager's own ordering. */
    boolean atLeast(String version, String floor);
}
