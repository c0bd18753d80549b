package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.ReplicationReport;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.ValidationResult;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * rtb versions and rtb restore --version on destinations filled by the real executor with keep-versions on: a
 * local directory and a real authenticated rsync daemon, addressed as rtb up users do (--source/--dest).
 */
class VersionsCommandTest {
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    private static RsyncDaemon daemon;
    private static Path passwordFile;

    @TempDir
    Path tmp;
    private Path src;
    private String destArg;
    private CommandValidator validator;
    private RsyncRunner runner;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void startDaemon() throws Exception {
        Path module = Files.createDirectories(shared.resolve("module"));
        daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(shared.resolve("daemon")).toString()))
            .auth("rtb", PASSWORD).module("backup", BytePaths.utf8(module.toString())).start();
        passwordFile = shared.resolve("rsync.secret");
        Files.writeString(passwordFile, PASSWORD + "\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) daemon.close();
    }

    private void setUp(String kind) throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        Properties p = new Properties();
        if (kind.equals("remote")) {
            destArg = daemon.url("backup") + "/t" + Long.toHexString(System.nanoTime());
            p.setProperty("destination.d.password-file", passwordFile.toString());
        } else {
            destArg = Files.createDirectories(tmp.resolve("dst")).toString();
        }
        p.setProperty("destination.d.url", destArg);
        p.setProperty("destination.d.keep-versions", "true");
        ExecConfig config = ExecConfig.from(p, Map.of());
        validator = new CommandValidator("h1", Map.of("src", BytePaths.utf8(src.toString())), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    private void sync(byte[]... paths) throws InterruptedException {
        List<ByteBuffer> list = java.util.Arrays.stream(paths).map(ByteBuffer::wrap).toList();
        SyncCommand cmd = SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId("h1")
            .setRootId("src").setDestination("d").setIssuedAtMs(System.currentTimeMillis()).setReplyTo("t")
            .setCovers(List.of()).setRemotePrefix(null).setPaths(list).setFullSync(paths.length == 0).build();
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) validator.validate(cmd)).job());
        assertThat(r.outcome()).as("%s", r.error()).isEqualTo(SyncOutcome.OK);
        Thread.sleep(5);
    }

    private Run run(Callable<Integer> command, String... args) {
        CommandLine cl = new CommandLine(command);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** PATH as rtb takes it: the absolute path under the source, escaped. */
    private String pathArg(byte[] rel) {
        return BytePaths.show(BytePaths.join(BytePaths.utf8(src.toString()), rel));
    }

    private String[] upStyle(String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.addAll(List.of("--source", src.toString(), "--dest", destArg, "--host-id", "h1"));
        if (destArg.startsWith("rsync://")) a.addAll(List.of("--password-file", passwordFile.toString()));
        return a.toArray(new String[0]);
    }

    private Run versions(String... args) {
        VersionsCommand c = new VersionsCommand();
        c.zone = ZoneId.of("UTC");
        return run(c, upStyle(args));
    }

    private Run restore(String... args) {
        return run(new RestoreCommand(), upStyle(args));
    }

    private JsonNode json(Run r) throws Exception {
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        return JSON.readTree(r.out());
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private void write(byte[] rel, String content) throws Exception {
        byte[] abs = BytePaths.join(BytePaths.utf8(src.toString()), rel);
        ByteFs.mkdirs(BytePaths.parent(abs));
        ByteFs.write(abs, b(content));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void aFileWrittenOverwrittenTwiceAndDeletedListsThreeVersionsEachRestorable(String kind) throws Exception {
        setUp(kind);
        byte[] rel = b("docs/report.txt");
        String[] contents = {"first version\n", "second versio\n", "third and longer version\n"};
        write(rel, contents[0]);
        sync(b("docs"));
        write(rel, contents[1]);
        sync(rel);
        write(rel, contents[2]);
        sync(rel);
        ByteFs.delete(BytePaths.join(BytePaths.utf8(src.toString()), rel));
        sync(rel);

        JsonNode j = json(versions(pathArg(rel), "--json"));
        assertThat(j.get("path").asText()).isEqualTo("docs/report.txt");
        assertThat(j.get("root").asText()).isEqualTo("src");
        assertThat(j.get("remote_dir").asText()).isEqualTo("h1/src");
        JsonNode v = j.get("versions");
        assertThat(v).as("three kept, nothing current: the file is deleted").hasSize(3);
        List<String> ids = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonNode e = v.get(i);
            assertThat(e.get("current").asBoolean()).isFalse();
            assertThat(e.get("type").asText()).isEqualTo("file");
            assertThat(e.get("files").asLong()).isEqualTo(1);
            // newest first: the copy the deletion kept is the third content
            assertThat(e.get("bytes").asLong()).isEqualTo(contents[2 - i].length());
            assertThat(e.get("version_dir").asText()).startsWith(e.get("replaced_at").asText().replaceAll("[-:]", "")
                .replace("Z", ""));
            assertThat(e.get("modified").asText()).endsWith("Z");
            ids.add(e.get("id").asText());
            dirs.add(e.get("version_dir").asText());
        }
        assertThat(dirs).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.length() == 8);

        Run table = versions(pathArg(rel));
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("versions of 'docs/report.txt' (root src of host h1)").contains("times in UTC")
            .contains("ID").contains("REPLACED").doesNotContain("(current)");
        String[] lines = table.out().split("\n");
        assertThat(lines).hasSize(5);
        for (int i = 0; i < 3; i++) {
            assertThat(lines[2 + i]).startsWith(ids.get(i)).contains(" file ").endsWith(" " + contents[2 - i].length());
        }

        for (int i = 0; i < 3; i++) {
            Path to = tmp.resolve("out" + i);
            Run r = restore(pathArg(rel), "--version", ids.get(i), "--to", to.toString());
            assertThat(r.exit()).as(r.out() + r.err()).isZero();
            assertThat(to.resolve("docs/report.txt")).hasContent(contents[2 - i]);
            assertThat(r.out()).contains("of version " + dirs.get(i));
        }
        Run byName = restore(pathArg(rel), "--version", dirs.get(2), "--to", tmp.resolve("byname").toString());
        assertThat(byName.exit()).as(byName.err()).isZero();
        assertThat(tmp.resolve("byname/docs/report.txt")).hasContent(contents[0]);

        Run current = restore(pathArg(rel), "--version", "current", "--to", tmp.resolve("cur").toString());
        assertThat(current.exit()).as("deleted: no current copy").isEqualTo(RestoreCommand.NOTHING);
        Run both = restore(pathArg(rel), "--version", ids.get(0), "--at", "now");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        Run bogus = restore(pathArg(rel), "--version", "nosuchid", "--to", tmp.resolve("bogus").toString());
        assertThat(bogus.exit()).isEqualTo(2);
        assertThat(bogus.err()).contains("no version 'nosuchid'");

        // The directory: the mirror still holds docs/ (empty), and each version dir holds one file below it.
        JsonNode d = json(versions(pathArg(b("docs")), "--json")).get("versions");
        assertThat(d).hasSize(4);
        assertThat(d.get(0).get("current").asBoolean()).isTrue();
        assertThat(d.get(0).get("id").asText()).isEqualTo("current");
        assertThat(d.get(0).get("files").asLong()).isZero();
        for (int i = 1; i < 4; i++) {
            assertThat(d.get(i).get("type").asText()).isEqualTo("directory");
            assertThat(d.get(i).get("files").asLong()).isEqualTo(1);
            assertThat(d.get(i).get("bytes").asLong()).isEqualTo(contents[3 - i].length());
            assertThat(d.get(i).get("id").asText()).isEqualTo(ids.get(i - 1));
        }
        Run dirRestore = restore(pathArg(b("docs")), "--version", ids.get(1), "--to", tmp.resolve("dir").toString());
        assertThat(dirRestore.exit()).as(dirRestore.err()).isZero();
        assertThat(tmp.resolve("dir/docs/report.txt")).hasContent(contents[1]);

        Run never = versions(pathArg(b("never-there")));
        assertThat(never.exit()).isEqualTo(VersionsCommand.NONE);
        assertThat(never.err()).contains("no copy of 'never-there'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void aHostileNamePrintsEscapedAndRoundTripsInJson(String kind) throws Exception {
        setUp(kind);
        byte[] rel = b("odd\nname \\ \u0080\u00ff -> x");
        write(rel, "old content");
        sync(rel);
        write(rel, "new content, longer");
        sync(rel);

        Run table = versions(pathArg(rel));
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("'" + BytePaths.show(rel) + "'").doesNotContain("\u0080")
            .doesNotContain("odd\nname");
        assertThat(table.out().split("\n")).as("heading, columns, current, one kept").hasSize(4);

        JsonNode j = json(versions(pathArg(rel), "--json"));
        assertThat(Base64.getDecoder().decode(j.get("path_base64").asText())).isEqualTo(rel);
        assertThat(BytePaths.unshow(j.get("path").asText())).isEqualTo(rel);
        JsonNode v = j.get("versions");
        assertThat(v).hasSize(2);
        assertThat(v.get(0).get("current").asBoolean()).isTrue();
        assertThat(v.get(0).get("bytes").asLong()).isEqualTo("new content, longer".length());
        assertThat(v.get(1).get("bytes").asLong()).isEqualTo("old content".length());

        Path to = tmp.resolve("out");
        Run r = restore(pathArg(rel), "--version", v.get(1).get("id").asText(), "--to", to.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(ByteFs.readAll(BytePaths.join(BytePaths.utf8(to.toString()), rel))).isEqualTo(b("old content"));
        assertThat(r.out()).doesNotContain("odd\nname");
        Run cur = restore(pathArg(rel), "--version", "current", "--to", tmp.resolve("cur").toString());
        assertThat(cur.exit()).as(cur.err()).isZero();
        assertThat(ByteFs.readAll(BytePaths.join(BytePaths.utf8(tmp.resolve("cur").toString()), rel)))
            .isEqualTo(b("new content, longer"));
    }
}
