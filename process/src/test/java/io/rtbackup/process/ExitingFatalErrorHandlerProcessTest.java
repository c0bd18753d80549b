package io.rtbackup.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The production handler in a real JVM: the process ends with status 70, shutdown hooks included. */
class ExitingFatalErrorHandlerProcessTest {

    private static Process run(String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), FatalDemo.class.getName(), mode)
            .redirectErrorStream(true).start();
    }

    private static String finish(Process p) throws Exception {
        boolean ended = p.waitFor(30, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ended) {
            p.destroyForcibly();
            throw new AssertionError("still running after 30 s; output so far:\n" + out);
        }
        return out;
    }

    @Test
    void aFailedThreadEndsTheProcessWithSeventyAfterTheShutdownHooks() throws Exception {
        Process p = run("clean");
        String out = finish(p);
        assertThat(p.exitValue()).as(out).isEqualTo(70);
        assertThat(out).contains("shutdown hook ran").contains("demo worker failed").contains("boom");
    }

    @Test
    void aHangingShutdownHookIsCutShortByTheHalt() throws Exception {
        Process p = run("hang");
        String out = finish(p);
        assertThat(p.exitValue()).as(out).isEqualTo(70);
        assertThat(out).contains("shutdown hook ran").contains("halting");
    }
}
