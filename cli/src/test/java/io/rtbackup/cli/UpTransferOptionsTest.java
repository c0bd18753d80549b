package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rtb up --bwlimit, --compress, --nice and --ionice: checked before anything starts, errors name the flag. */
class UpTransferOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void badValuesAreRefusedNamingTheFlag() throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String src = Files.createDirectories(tmp.resolve("src")).toString();
        String state = tmp.resolve("state").toString();
        String daemon = "rsync://backup@backup.example/rtb";
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            String[][] cases = {
                {"--bwlimit", "1.5m", "--bwlimit: '1.5m' is not a rate"},
                {"--compress", "gzip", "--compress: 'gzip' is not one of none, auto, zstd, lz4, zlib"},
                {"--nice", "20", "--nice: '20' is not a niceness 0-19"},
                {"--ionice", "realtime", "--ionice: 'realtime' is not none, idle, best-effort"},
            };
            for (String[] c : cases) {
                captured.reset();
                assertThat(Rtb.run("up", "--source", src, "--dest", daemon, c[0], c[1], "--state-dir", state))
                    .as("%s %s", c[0], c[1]).isEqualTo(2);
                assertThat(captured.toString(StandardCharsets.UTF_8)).contains(c[2])
                    .doesNotContain("destination.backup_example");
            }
            captured.reset();
            assertThat(Rtb.run("up", "--source", src, "--dest", tmp.resolve("d").toString(), "--compress", "zstd",
                "--state-dir", state)).isEqualTo(2);
            assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("--compress: every --dest is a local directory");
            assertThat(tmp.resolve("state")).as("nothing started").doesNotExist();
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
