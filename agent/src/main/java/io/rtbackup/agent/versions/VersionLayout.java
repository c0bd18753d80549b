package io.rtbackup.agent.versions;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.SshTarget;
import io.rtbackup.agent.config.ExecConfig.Target;

/**
 * Where a destination keeps versions. The mirror of a root is {@code <prefix>/<remoteDir>/} (remoteDir is
 * {@code <host>/<root>} unless the worker routes the root elsewhere); its versions are
 * {@code <prefix>/.rtb-versions/<remoteDir>/<stamp>/}, a sibling tree of the mirrors: a full sync's
 * {@code --delete} works inside the mirror and never reaches it, and reading the mirror never descends into it.
 *
 * <p>The {@code --backup-dir} argument is an absolute path: for a daemon module rsync resolves it inside the
 * module, whether the module runs with {@code use chroot = yes} (the module is the root) or without (rsync
 * sanitizes the path to the module), so {@code /<prefix>/.rtb-versions/...} lands in the module's prefix. A
 * relative {@code ../../.rtb-versions} would work only with chroot: without it the daemon strips the "..",
 * which would put the versions inside the mirror (checked against a real daemon in VersionsRsyncTest).
 * For a local directory the argument is that directory's absolute path. For ssh it is the destination's path on
 * the host: absolute there, and behind {@code rrsync DIR} (which refuses "..") read inside DIR, like the
 * mirror's own path.
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
        String rel = VERSIONS_DIR + "/" + remoteDir + "/" + stamp.name();
        if (target instanceof DaemonTarget d) {
            return "/" + (d.prefix().isEmpty() ? "" : d.prefix() + "/") + rel;
        }
        if (target instanceof SshTarget s) {
            return (s.path().endsWith("/") ? s.path() : s.path() + "/") + rel;
        }
        String dir = ((LocalTarget) target).directory();
        return (dir.endsWith("/") ? dir : dir + "/") + rel;
    }
}
