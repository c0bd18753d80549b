package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.ReplicationReport;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.ValidationResult;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncOutcome;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * rtb restore and rtb prune on a local destination filled by the real executor, as rtb up leaves it (folder
 * names as ids, --source/--dest instead of a config file) and with an agent config; and their error messages.
 */
class RestoreCommandTest {
    @TempDir
    Path tmp;
    Path src;
    Path dst;
    CommandValidator validator;
    RsyncRunner runner;

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        dst = Files.createDirectories(tmp.resolve("dst"));
        Properties p = new Properties();
        p.setProperty("destination.dst.url", dst.toString());
        p.setProperty("destination.dst.keep-versions", "true");
        ExecConfig config = ExecConfig.from(p, Map.of());
        validator = new CommandValidator("h1", Map.of("src", BytePaths.utf8(src.toString())), config.destinations());
        runner = new RsyncRunner(config.rsyncPath());
    }

    Instant sync(String... paths) throws InterruptedException {
        List<ByteBuffer> list = java.util.Arrays.stream(paths).map(s -> ByteBuffer.wrap(BytePaths.utf8(s))).toList();
        SyncCommand cmd = SyncCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId("h1")
            .setRootId("src").setDestination("dst").setIssuedAtMs(System.currentTimeMillis()).setReplyTo("t")
            .setCovers(List.of()).setRemotePrefix(null).setPaths(list).setFullSync(paths.length == 0).build();
        ReplicationReport r = runner.replicate(((ValidationResult.Accepted) validator.validate(cmd)).job());
        assertThat(r.outcome()).as("%s", r.error()).isEqualTo(SyncOutcome.OK);
        Thread.sleep(20);
        Instant t = Instant.now();
        Thread.sleep(20);
        return t;
    }

    Run run(Callable<Integer> command, String... args) {
        CommandLine cl = new CommandLine(command);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    Run restore(String... args) {
        return run(new RestoreCommand(), args);
    }

    String[] upStyle(String... more) {
        List<String> a = new java.util.ArrayList<>(List.of(more));
        a.addAll(List.of("--source", src.toString(), "--dest", dst.toString(), "--host-id", "h1"));
        return a.toArray(new String[0]);
    }

    @Test
    void restoresADirectoryAsRtbUpLeftItAndNeverOverwrites() throws Exception {
        Files.createDirectories(src.resolve("docs"));
        Files.writeString(src.resolve("docs/a.txt"), "a1");
        Files.writeString(src.resolve("docs/b.txt"), "b1");
        Instant t1 = sync();
        Files.writeString(src.resolve("docs/a.txt"), "a2");
        Files.delete(src.resolve("docs/b.txt"));
        Files.writeString(src.resolve("docs/new.txt"), "n2");
        sync();

        Path to = tmp.resolve("out");
        Run r = restore(upStyle(src.resolve("docs").toString(), "--at", t1.toString(), "--to", to.toString()));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(to.resolve("docs/a.txt")).hasContent("a1");
        assertThat(to.resolve("docs/b.txt")).hasContent("b1");
        assertThat(to.resolve("docs/new.txt")).doesNotExist();
        assertThat(r.out()).contains("restored " + to.resolve("docs/a.txt")).contains("absent   docs/new.txt");
        assertThat(src.resolve("docs/a.txt")).as("the live source is untouched").hasContent("a2");

        Run again = restore(upStyle(src.resolve("docs").toString(), "--at", t1.toString(), "--to", to.toString()));
        assertThat(again.exit()).isEqualTo(RestoreCommand.FAILED);
        assertThat(again.err()).contains("already exists");

        // Relative PATH and the default --to are resolved against the current directory (the JVM's).
        Run rel = restore(upStyle(src.resolve("docs/a.txt").toString(), "--at", "now", "--to",
            tmp.resolve("now").toString()));
        assertThat(rel.exit()).as(rel.err()).isZero();
        assertThat(tmp.resolve("now/docs/a.txt")).hasContent("a2");
    }

    @Test
    void withAnAgentConfigAndPrune() throws Exception {
        Files.writeString(src.resolve("f"), "1");
        sync("f");
        Files.writeString(src.resolve("f"), "2");
        sync("f");
        Files.writeString(src.resolve("f"), "3");
        sync("f");
        Path config = tmp.resolve("agent.properties");
        Properties p = new Properties();
        p.setProperty("host.id", "h1");
        p.setProperty("root.src.path", src.toString());
        p.setProperty("kafka.bootstrap.servers", "localhost:9");
        p.setProperty("destination.dst.url", dst.toString());
        p.setProperty("destination.dst.keep-versions", "true");
        p.setProperty("destination.dst.versions-keep", "1");
        p.setProperty("destination.plain.url", tmp.resolve("plain").toString());
        try (Writer w = Files.newBufferedWriter(config)) {
            p.store(w, null);
        }
        Run dry = run(new PruneCommand(), "--config", config.toString(), "--dry-run");
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("would delete dst h1/src/").contains("1 version dir(s) would be deleted");
        Run done = run(new PruneCommand(), "--config", config.toString());
        assertThat(done.exit()).as(done.err()).isZero();
        assertThat(done.out()).contains("dst h1/src: 1 deleted, 1 kept");
        try (var l = Files.list(dst.resolve(".rtb-versions/h1/src"))) {
            assertThat(l).hasSize(1);
        }
        Run plain = run(new PruneCommand(), "--config", config.toString(), "--dest-name", "plain");
        assertThat(plain.exit()).isEqualTo(2);
        assertThat(plain.err()).contains("destination.plain.keep-versions is off");

        // --from is needed only when several destinations keep versions: here "dst" is the one.
        Run r = restore(src.resolve("f").toString(), "--at", "now", "--to", tmp.resolve("o").toString(), "--config",
            config.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(tmp.resolve("o/f")).hasContent("3");
    }

    @Test
    void errorsNameWhatIsWrong() throws Exception {
        Files.writeString(src.resolve("f"), "1");
        sync();
        Run noDest = restore(upStyle(src.resolve("f").toString(), "--at", "now", "--from", "nope"));
        assertThat(noDest.exit()).isEqualTo(2);
        assertThat(noDest.err()).contains("--from nope: no such destination").contains("[dst]");
        Run badTime = restore(upStyle(src.resolve("f").toString(), "--at", "yesterday"));
        assertThat(badTime.exit()).isEqualTo(2);
        assertThat(badTime.err()).contains("'yesterday' is not a time");
        Run outside = restore(upStyle("/etc/passwd", "--at", "now"));
        assertThat(outside.exit()).isEqualTo(2);
        assertThat(outside.err()).contains("'/etc/passwd' is under none of the roots");
        Run missing = restore(upStyle(src.resolve("never-there").toString(), "--at", "now", "--to",
            tmp.resolve("x").toString()));
        assertThat(missing.exit()).isEqualTo(RestoreCommand.NOTHING);
        assertThat(missing.err()).contains("'never-there' is neither in the mirror nor in any version dir");
        Run pruneUp = run(new PruneCommand(), upStyle());
        assertThat(pruneUp.exit()).isEqualTo(2);
        assertThat(pruneUp.err()).contains("rtb prune needs --config");
        Run escape = restore(upStyle(src.resolve("f").toString(), "--at", "now", "--remote-dir", "../other"));
        assertThat(escape.exit()).isEqualTo(2);
        assertThat(escape.err()).contains("--remote-dir '../other' must be plain names");
        Run noConfig = restore(src.resolve("f").toString(), "--at", "now");
        assertThat(noConfig.exit()).isEqualTo(2);
        assertThat(noConfig.err()).contains("missing --config");
    }

    @Test
    void pathsAreBytesWrittenWithEscapes() {
        assertThat(ReplicaPath.absolute("/a/b\\x80c\\nd/./e/../f")).isEqualTo(
            "/a/b\u0080c\nd/f".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(ReplicaPath.absolute("/caf\u00e9")).isEqualTo("/caf\u00e9".getBytes(StandardCharsets.UTF_8));
    }
}
