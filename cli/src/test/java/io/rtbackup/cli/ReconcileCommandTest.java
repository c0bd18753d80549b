package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** rtb reconcile with an agent config, real rsync into local destinations; its output, exit codes and errors. */
class ReconcileCommandTest {
    @TempDir
    Path tmp;
    Path src;
    Path other;
    Path config;

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(src.resolve("a"), "alpha");
        Files.writeString(other.resolve("o"), "other");
        config = tmp.resolve("agent.properties");
        Files.write(config, List.of("host.id=h1", "root.src.path=" + src, "root.other.path=" + other,
            "kafka.bootstrap.servers=127.0.0.1:1", "destination.one.url=" + tmp.resolve("one"),
            "destination.two.url=" + tmp.resolve("two")));
    }

    Run run(String... args) {
        CommandLine cl = new CommandLine(new ReconcileCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void reconcilesEachRootWithEachDestinationAndExitsOneWhenItRepairedSomething() throws Exception {
        Run first = run("--config", config.toString());
        assertThat(first.exit()).as(first.out() + first.err()).isEqualTo(1);
        assertThat(first.out()).contains("root src -> one:h1/src: 1 difference(s) found and repaired")
            .contains("root other -> two:h1/other: 1 difference(s)").contains("4 tree(s), 4 difference(s) repaired");
        assertThat(tmp.resolve("two/h1/other/o")).hasContent("other");

        Run inSync = run("--config", config.toString());
        assertThat(inSync.exit()).as(inSync.out()).isZero();
        assertThat(inSync.out()).contains("root src -> one:h1/src: in sync").contains("0 difference(s) repaired");

        Files.writeString(tmp.resolve("one/h1/src/a"), "edited on the destination by hand");
        Files.writeString(tmp.resolve("one/h1/src/stray"), "x");
        Run repaired = run("--config", config.toString(), "--root", "src", "--dest", "one");
        assertThat(repaired.exit()).isEqualTo(1);
        assertThat(repaired.out()).contains("root src -> one:h1/src: 2 difference(s) found and repaired")
            .contains("1 tree(s), 2 difference(s)").doesNotContain("other");
        assertThat(tmp.resolve("one/h1/src/a")).hasContent("alpha");
        assertThat(tmp.resolve("one/h1/src/stray")).doesNotExist();
    }

    @Test
    void aRemoteDirPointsOneRootElsewhere() {
        Run r = run("--config", config.toString(), "--root", "src", "--dest", "two", "--remote-dir", "h1/routed/src");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(tmp.resolve("two/h1/routed/src/a")).hasContent("alpha");
        assertThat(tmp.resolve("two/h1/src")).doesNotExist();
    }

    @Test
    void aFailedReconciliationExitsThreeAndUsageErrorsTwo() throws Exception {
        Files.delete(other.resolve("o"));
        Files.delete(other);
        Run failed = run("--config", config.toString(), "--root", "other");
        assertThat(failed.exit()).isEqualTo(3);
        assertThat(failed.out()).contains("root other -> one:h1/other: failed").contains("does not exist");
        assertThat(failed.err()).contains("2 reconciliation(s) failed");

        assertThat(run("--config", config.toString(), "--root", "nope").err()).contains("--root nope: no such root");
        assertThat(run("--config", config.toString(), "--dest", "nope").exit()).isEqualTo(2);
        Run outside = run("--config", config.toString(), "--root", "src", "--remote-dir", "h2/src");
        assertThat(outside.exit()).isEqualTo(3);
        assertThat(outside.out()).contains("outside 'h1/'");
        assertThat(run("--config", config.toString(), "--remote-dir", "x").err())
            .contains("--remote-dir needs exactly one --root");
    }
}
