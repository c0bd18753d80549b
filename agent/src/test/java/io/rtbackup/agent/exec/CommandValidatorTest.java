package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ValidationResult.Accepted;
import io.rtbackup.agent.exec.ValidationResult.Rejected;
import io.rtbackup.agent.exec.ValidationResult.Unavailable;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The validator against a real directory tree (symlinks, missing parents) on this machine's file system. */
class CommandValidatorTest {
    private static final String HOST = "h1";

    @TempDir
    Path tmp;
    private byte[] root;
    private CommandValidator validator;

    @BeforeEach
    void setUp() throws IOException {
        Path r = Files.createDirectories(tmp.resolve("root"));
        root = BytePaths.utf8(r.toString());
        Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(tmp.resolve("outside/secret"), "secret");
        Files.createDirectories(r.resolve("dir/sub"));
        Files.writeString(r.resolve("dir/file"), "f");
        Files.writeString(r.resolve("plainfile"), "p");
        Files.createSymbolicLink(r.resolve("escape"), tmp.resolve("outside"));
        Files.createSymbolicLink(r.resolve("dir/rel-escape"), Path.of("../../outside"));
        Properties p = new Properties();
        p.setProperty("destination.d1.url", tmp.resolve("dst").toString());
        validator = new CommandValidator(HOST, Map.of("r1", root),
            ExecConfig.from(p, Map.of()).destinations());
    }

    private ValidationResult validate(byte[]... paths) {
        return validator.validate(Commands.paths(HOST, "r1", "d1", paths));
    }

    private static String reason(ValidationResult v) {
        assertThat(v).isInstanceOf(Rejected.class);
        return ((Rejected) v).reason();
    }

    private static List<ListedPath> listed(ValidationResult v) {
        assertThat(v).as("verdict").isInstanceOf(Accepted.class);
        return ((ReplicationJob.Paths) ((Accepted) v).job().selection()).paths();
    }

    @Test
    void plainPathsAreAcceptedWithWhatIsThere() {
        List<ListedPath> l = listed(validate(b("dir/file"), b("dir/sub"), b("dir/new-missing"), b("escape")));
        assertThat(l).containsExactly(
            new ListedPath(b("dir/file"), Presence.REGULAR),
            new ListedPath(b("dir/sub"), Presence.DIRECTORY),
            new ListedPath(b("dir/new-missing"), Presence.MISSING),
            // A symlink as the last component is replicated as a symlink, never followed.
            new ListedPath(b("escape"), Presence.OTHER));
        Accepted a = (Accepted) validate(b("dir/file"));
        assertThat(a.job().remoteDir()).isEqualTo("h1/r1");
        assertThat(a.job().rootPath()).isEqualTo(tmp.resolve("root").toString());
    }

    @Test
    void traversalAbsoluteAndMalformedPathsAreRejected() {
        assertThat(reason(validate(b("../../etc/passwd")))).contains("'..'");
        assertThat(reason(validate(b("dir/../../outside/secret")))).contains("'..'");
        assertThat(reason(validate(b("/etc/passwd")))).contains("absolute");
        assertThat(reason(validate(b("dir/file"), b("/etc/shadow")))).contains("absolute");
        assertThat(reason(validate(b("./dir/file")))).contains("'.'");
        assertThat(reason(validate(b("dir//file")))).contains("empty component");
        assertThat(reason(validate(b("dir/")))).contains("empty component");
        assertThat(reason(validate(b("")))).contains("empty path");
        assertThat(reason(validate(new byte[] {'a', 0, 'b'}))).contains("NUL");
        assertThat(reason(validate(b("d/" + "x".repeat(256))))).contains("NAME_MAX");
        assertThat(reason(validate())).contains("no paths");
    }

    @Test
    void aPathThroughASymlinkListsTheSymlinkItselfNeverItsTarget() {
        assertThat(listed(validate(b("escape/secret")))).containsExactly(new ListedPath(b("escape"), Presence.OTHER));
        assertThat(listed(validate(b("dir/rel-escape/secret"))))
            .containsExactly(new ListedPath(b("dir/rel-escape"), Presence.OTHER));
        assertThat(listed(validate(b("dir/file"), b("escape/missing/deeper"))))
            .containsExactly(new ListedPath(b("dir/file"), Presence.REGULAR), new ListedPath(b("escape"), Presence.OTHER));
    }

    @Test
    void aChangedFileWithLinksOutsideItsDirectoryEscalatesToAWholeRootSync() throws IOException {
        Files.createLink(tmp.resolve("root/dir/sub/linked"), tmp.resolve("root/dir/file"));
        Accepted a = (Accepted) validate(b("dir/file"));
        assertThat(a.job().selection()).isInstanceOf(ReplicationJob.FullRoot.class);
        Files.createLink(tmp.resolve("root/plain-link"), tmp.resolve("root/plainfile"));
        assertThat(listed(validate(b("plainfile")))).containsExactly(
            new ListedPath(b("plainfile"), Presence.REGULAR), new ListedPath(b("plain-link"), Presence.REGULAR));
    }

    @Test
    void aListedDirectoryHoldingAFileLinkedFromOutsideItEscalatesToAWholeRootSync() throws IOException {
        // rsync -r re-sends dir/sub/linked as a new inode; plainfile's copy would keep the old one
        Files.createLink(tmp.resolve("root/dir/sub/linked"), tmp.resolve("root/plainfile"));
        Accepted a = (Accepted) validate(b("dir"));
        assertThat(a.job().selection()).isInstanceOf(ReplicationJob.FullRoot.class);
        // links that stay inside the listed directory need no escalation
        Files.delete(tmp.resolve("root/dir/sub/linked"));
        Files.createLink(tmp.resolve("root/dir/sub/linked"), tmp.resolve("root/dir/file"));
        assertThat(listed(validate(b("dir")))).containsExactly(new ListedPath(b("dir"), Presence.DIRECTORY));
    }

    @Test
    void aMissingParentBecomesADeletionOfTheTopmostMissingDirectory() {
        assertThat(listed(validate(b("gone/sub/file"), b("gone/other"), b("dir/gone2/x"))))
            .containsExactly(new ListedPath(b("gone"), Presence.MISSING),
                new ListedPath(b("dir/gone2"), Presence.MISSING));
    }

    @Test
    void aFileWhereAParentDirectoryWasIsListedItself() {
        assertThat(listed(validate(b("plainfile/was-inside"))))
            .containsExactly(new ListedPath(b("plainfile"), Presence.REGULAR));
    }

    @Test
    void otherNamesOfAHardLinkedFileInTheSameDirectoryAreListedToo() throws IOException {
        Files.createLink(tmp.resolve("root/dir/file-link"), tmp.resolve("root/dir/file"));
        assertThat(listed(validate(b("dir/file-link")))).containsExactly(
            new ListedPath(b("dir/file-link"), Presence.REGULAR),
            new ListedPath(b("dir/file"), Presence.REGULAR));
    }

    @Test
    void unknownHostRootOrDestinationIsRejected() {
        assertThat(reason(validator.validate(Commands.paths("other-host", "r1", "d1", b("dir/file")))))
            .contains("other-host");
        assertThat(reason(validator.validate(Commands.paths(HOST, "nope", "d1", b("dir/file"))))).contains("nope");
        assertThat(reason(validator.validate(Commands.paths(HOST, "r1", "nowhere", b("dir/file")))))
            .contains("nowhere");
    }

    @Test
    void hostileButLegalNamesPassTheSyntaxCheck() throws IOException {
        Path r = tmp.resolve("root");
        Files.writeString(r.resolve("new\nline"), "n");
        Files.writeString(r.resolve("-rf"), "d");
        List<ListedPath> l = listed(validate(b("new\nline"), b("-rf"), new byte[] {'d', 'i', 'r', '/', (byte) 0xff},
            b("n".repeat(255))));
        assertThat(l).extracting(ListedPath::presence)
            .containsExactly(Presence.REGULAR, Presence.REGULAR, Presence.MISSING, Presence.MISSING);
    }

    @Test
    void aDefaultRemoteDirectoryNeedsIdsOfTheWireRule() {
        // A validator never gets such ids from a checked configuration (AgentConfig refuses them); this is the
        // last line before they become an rsync argument.
        Properties p = new Properties();
        p.setProperty("destination.d1.url", tmp.resolve("dst").toString());
        CommandValidator odd = new CommandValidator("a b", Map.of("r1", root), ExecConfig.from(p, Map.of()).destinations());
        assertThat(reason(odd.validate(Commands.paths("a b", "r1", "d1", b("dir/file")))))
            .contains("host id 'a b' contains a space");
    }

    @Test
    void remotePrefixMustStayRelative() {
        SyncCommand.Builder c = Commands.base(HOST, "r1", "d1").setPaths(List.of(java.nio.ByteBuffer.wrap(b("dir"))));
        assertThat(reason(validator.validate(c.setRemotePrefix("../x").build()))).contains("..");
        assertThat(reason(validator.validate(c.setRemotePrefix("/abs").build()))).contains("absolute");
        assertThat(reason(validator.validate(c.setRemotePrefix("a/../../b").build()))).contains("..");
        assertThat(reason(validator.validate(c.setRemotePrefix("").build()))).contains("empty");
        assertThat(reason(validator.validate(c.setRemotePrefix("sp ace/x").build()))).contains("plain names");
        Accepted ok = (Accepted) withAllowedPrefix("fleet/{host}/").validate(c.setRemotePrefix("fleet/h1/r1/").build());
        assertThat(ok.job().remoteDir()).isEqualTo("fleet/h1/r1");
    }

    private CommandValidator withAllowedPrefix(String allowed) {
        Properties p = new Properties();
        p.setProperty("destination.d1.url", tmp.resolve("dst").toString());
        p.setProperty("destination.d1.allowed-prefix", allowed);
        return new CommandValidator(HOST, Map.of("r1", root), ExecConfig.from(p, Map.of()).destinations());
    }

    @Test
    void aCommandCannotPointAtAnotherHostsReplica() {
        SyncCommand.Builder c = Commands.base(HOST, "r1", "d1").setPaths(List.of()).setFullSync(true);
        // default: only this host's own tree, h1/
        assertThat(reason(validator.validate(c.setRemotePrefix("h2/r1").build())))
            .contains("outside 'h1/'").contains("destination.d1.allowed-prefix");
        assertThat(reason(validator.validate(c.setRemotePrefix("h2").build()))).contains("outside 'h1/'");
        assertThat(reason(validator.validate(c.setRemotePrefix("h1x/r1").build()))).contains("outside 'h1/'");
        assertThat(reason(validator.validate(c.setRemotePrefix("fleet/h1/r1").build()))).contains("outside 'h1/'");
        assertThat(validator.validate(c.setRemotePrefix("h1/elsewhere").build())).isInstanceOf(Accepted.class);
        assertThat(validator.validate(c.setRemotePrefix(null).build())).isInstanceOf(Accepted.class);
        // a fleet layout with its own prefix
        CommandValidator fleet = withAllowedPrefix("fleet/{host}/");
        assertThat(reason(fleet.validate(c.setRemotePrefix("fleet/h2/r1").build()))).contains("outside 'fleet/h1/'");
        assertThat(fleet.validate(c.setRemotePrefix("fleet/h1/r1").build())).isInstanceOf(Accepted.class);
        // explicitly the whole destination (one host writes there)
        assertThat(withAllowedPrefix("").validate(c.setRemotePrefix("anything/x").build())).isInstanceOf(Accepted.class);
    }

    @Test
    void anAllowedPrefixFollowsTheRemotePrefixRule() {
        assertThatThrownBy(() -> withAllowedPrefix("{hostname}/")).hasMessageContaining("unknown placeholder");
        assertThatThrownBy(() -> withAllowedPrefix("../{host}")).hasMessageContaining("allowed-prefix");
        assertThatThrownBy(() -> withAllowedPrefix("/abs/{host}")).hasMessageContaining("allowed-prefix");
    }

    @Test
    void fullSyncOfAMissingRootIsUnavailableNotRejected() throws IOException {
        ByteFs.deleteTree(root);
        assertThat(validator.validate(Commands.full(HOST, "r1", "d1"))).isInstanceOf(Unavailable.class);
        assertThat(validate(b("dir/file"))).isInstanceOf(Unavailable.class);
    }

    @Test
    void rootsMustBeAbsoluteAscii() {
        assertThatThrownBy(() -> new CommandValidator(HOST, Map.of("r", b("relative")), Map.of()))
            .hasMessageContaining("absolute");
        assertThatThrownBy(() -> new CommandValidator(HOST, Map.of("r", b("/caf\u00c3\u00a9")), Map.of()))
            .hasMessageContaining("ASCII");
    }
}
