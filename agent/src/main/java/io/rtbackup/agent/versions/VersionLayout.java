package io.rtbackup.agent.versions;

import io.rtbackup.agent.config.ExecConfig.Target;
import io.rtbackup.agent.rsync.RsyncEndpoint;

/**
 * Where a destination keeps versions. The mirror of a root is {@code <prefix>/<remoteDir>/} (remoteDir is
 * {@code <host>/<root>} unless the worker routes the root elsewhere); its versions are
 * {@code <prefix>/.rtb-versions/<remoteDir>/<stamp>/}, a sibling tree of the mirrors: a full sync's
 * {@code --delete} works inside the mirror and never reaches it, and reading the mirror never descends into it.
 *
 * <p>The {@code --backup-dir} argument is an absolute path ({@link RsyncEndpoint#directoryOption}), so
 * {@code /<prefix>/.rtb-versions/...} lands in the module's prefix (checked against a real daemon in
 * VersionsRsyncTest); for ssh it is the destination's path on the host, read inside DIR behind {@code rrsync DIR}.
 */
public final class VersionLayout {
    /** The versions tree's name under the destination prefix. */
    public static final String VERSIONS_DIR = ".rtb-versions";

    private VersionLayout() {
    }

    /** The rsync argument for the directory holding all version dirs of {@code remoteDir}, ending in "/". */
    public static String versionsArgument(Target target, String remoteDir) {
        return target.argument(VERSIONS_DIR + "/" + remoteDir);
    }

    /** The rsync argument for one version dir, ending in "/". */
    public static String versionArgument(Target target, String remoteDir, VersionStamp stamp) {
        return target.argument(VERSIONS_DIR + "/" + remoteDir + "/" + stamp.name());
    }

    /** The value of {@code --backup-dir} for a sync into {@code remoteDir} stamped {@code stamp}. */
    public static String backupDir(Target target, String remoteDir, VersionStamp stamp) {
        return RsyncEndpoint.directoryOption(target, VERSIONS_DIR + "/" + remoteDir + "/" + stamp.name());
    }
}
