package io.rtbackup.secure;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The one rule for what only its owner may touch: secrets (password, token and key files) and rtbackup's own
 * state. A secret file open to group or others in any way is refused, as rsync refuses a daemon password file
 * ("password file must not be other-accessible"), only stricter: group counts too. Directories and files rtbackup
 * creates for itself are created 0700 / 0600 in the same system call that makes them (never chmod-ed afterwards,
 * so there is no moment in which they are open).
 */
public final class OwnerOnly {
    /** rwx------ */
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    /** rw------- */
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private OwnerOnly() {
    }

    /**
     * Why {@code file} may not hold a secret: it cannot be inspected, or group or others have any access to it.
     * A symbolic link is judged by the file it leads to (Kubernetes mounts Secret keys as links; a link's own mode
     * means nothing). Empty when only its owner can use it.
     */
    public static Optional<String> secretFileProblem(Path file) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return Optional.of("cannot check who may read it on this file system");
        } catch (IOException e) {
            return Optional.of("cannot read it (" + e + ")");
        }
        Set<PosixFilePermission> open = openTo(perms);
        if (!open.isEmpty()) {
            return Optional.of("it is accessible to group or others (" + open + "); a secret file must be "
                + "readable only by its owner: chmod 600 " + file);
        }
        return Optional.empty();
    }

    /** The permissions of {@code perms} that group or others hold. */
    public static Set<PosixFilePermission> openTo(Set<PosixFilePermission> perms) {
        Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
        open.addAll(NOT_OWNER);
        open.retainAll(perms);
        return open;
    }

    /**
     * Creates {@code dir} and any missing parents; the ones created here are 0700 from the start (parents that
     * exist are left as they are).
     */
    public static void createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) return;
        if (abs.getParent() != null) createDirectories(abs.getParent());
        try {
            Files.createDirectory(abs, dirAttribute());
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) throw e; // a file of that name; a concurrent mkdir of it is fine
        }
    }

    /**
     * Makes {@code dir} rtbackup's private state directory: created 0700 when missing; when it exists, belongs to
     * this user and is open to group or others, it is narrowed to 0700 and the returned text says so (it is our
     * own state, left open by an older release or a umask, and holds what others must not read); one owned by
     * another user is refused.
     *
     * @return what was repaired, for a warning; empty when nothing was
     * @throws IOException when it cannot be created or repaired, or belongs to someone else
     */
    public static Optional<String> privateDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            createDirectories(dir);
            return Optional.empty();
        }
        if (!Files.isDirectory(dir)) throw new IOException(dir + " exists and is not a directory");
        UserPrincipal owner = Files.getOwner(dir);
        UserPrincipal me = dir.getFileSystem().getUserPrincipalLookupService()
            .lookupPrincipalByName(System.getProperty("user.name"));
        if (!owner.equals(me)) {
            throw new IOException(dir + " belongs to " + owner.getName() + ", not to " + me.getName()
                + "; use a state directory of your own");
        }
        Set<PosixFilePermission> open = openTo(Files.getPosixFilePermissions(dir));
        if (open.isEmpty()) return Optional.empty();
        Files.setPosixFilePermissions(dir, DIRECTORY);
        return Optional.of(dir + " was accessible to group or others (" + open + "); narrowed it to 0700 "
            + "(it holds the backup's state)");
    }

    /** Writes {@code content} to a new file {@code file}, created 0600. */
    public static void writeNewFile(Path file, byte[] content) throws IOException {
        Files.write(Files.createFile(file, fileAttribute()), content);
    }

    private static FileAttribute<Set<PosixFilePermission>> dirAttribute() {
        return PosixFilePermissions.asFileAttribute(DIRECTORY);
    }

    private static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
        return PosixFilePermissions.asFileAttribute(FILE);
    }
}
