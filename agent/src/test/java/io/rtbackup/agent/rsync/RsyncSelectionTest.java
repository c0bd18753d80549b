package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.RsyncDaemon;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RsyncStdin.Selection} with the real rsync: a filtered {@code --delete} of the root deletes exactly the
 * selected names (a directory with its contents) and nothing else, whatever bytes the names hold, into a local
 * directory and into a daemon; the deleted entries are counted on both (rsync 3.2.7's client --stats says 0 for
 * a daemon).
 */
class RsyncSelectionTest {
    @TempDir
    Path tmp;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void rulesEscapeNamesOnlyInWildcardPatterns() {
        var s = new RsyncStdin.Selection(List.of(b("a/b/star*?[x]"), b("back\\slash")));
        assertThat(s.rules().stream().map(r -> new String(r, StandardCharsets.ISO_8859_1)).toList())
            .containsExactly("/a/", "/a/b/", "/a/b/star\\*\\?\\[x]", "/a/b/star\\*\\?\\[x]/**", "/back\\slash",
                "/back\\\\slash/**");
    }

    /** Names beyond HostileNames that mean something in a filter rule or a list file. */
    private static List<byte[]> names() {
        List<byte[]> names = new ArrayList<>(HostileNames.all());
        for (String s : List.of("#hash", ";semi", "!", "+ plus", "- minus", "***", "a\\*b", "[ab]")) names.add(b(s));
        return names;
    }

    private List<byte[]> fill(byte[] dst) throws Exception {
        List<byte[]> doomed = new ArrayList<>();
        byte[] deep = b("d \u00ff/e*");
        ByteFs.mkdirs(BytePaths.join(dst, deep));
        List<byte[]> names = names();
        for (int i = 0; i < names.size(); i++) {
            byte[] top = names.get(i);
            byte[] below = BytePaths.join(deep, names.get(i));
            ByteFs.write(BytePaths.join(dst, top), top);
            ByteFs.write(BytePaths.join(dst, below), top);
            doomed.add(i % 2 == 0 ? top : below);
        }
        byte[] dir = b("dir star*?[x]");
        ByteFs.mkdirs(BytePaths.join(dst, BytePaths.join(dir, b("sub"))));
        ByteFs.write(BytePaths.join(dst, BytePaths.join(dir, b("sub/f"))), b("f"));
        doomed.add(dir);
        return doomed;
    }

    private static Set<ByteBuffer> tree(byte[] root, byte[] rel, Set<ByteBuffer> out) throws Exception {
        byte[] at = rel.length == 0 ? root : BytePaths.join(root, rel);
        for (byte[] n : ByteFs.list(at)) {
            byte[] p = rel.length == 0 ? n : BytePaths.join(rel, n);
            out.add(ByteBuffer.wrap(p));
            if (ByteFs.lstat(BytePaths.join(root, p)).orElseThrow().isDir()) tree(root, p, out);
        }
        return out;
    }

    private void deletesExactlyTheSelection(byte[] dstDir, String dstArg, RsyncEndpoint endpoint) throws Exception {
        Path srcDir = Files.createDirectories(tmp.resolve("src"));
        byte[] src = BytePaths.utf8(srcDir.toString());
        ByteFs.mkdirs(BytePaths.join(src, b("d \u00ff/e*")));
        List<byte[]> doomed = fill(dstDir);
        Set<ByteBuffer> before = tree(dstDir, new byte[0], new HashSet<>());
        Set<ByteBuffer> expected = new HashSet<>();
        for (ByteBuffer p : before) {
            byte[] path = new byte[p.remaining()];
            p.duplicate().get(path);
            boolean gone = doomed.stream().anyMatch(d -> BytePaths.startsWith(path, d));
            if (!gone) expected.add(p);
        }
        List<String> args = RsyncArgs.to(endpoint).archive().add("-r", "--delete", "--force", "--stats",
            "--no-human-readable", "--info=del1").selectFromStdin().build(srcDir + "/", dstArg);
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            RsyncResult r = launcher.run("sel", args, endpoint.environment(), new RsyncStdin.Selection(doomed),
                Duration.ofSeconds(60), 1 << 20);
            assertThat(r.ok()).as("%s", r.problem()).isTrue();
            assertThat(tree(dstDir, new byte[0], new HashSet<>())).isEqualTo(expected);
            assertThat(r.stats().filesDeleted()).isEqualTo(before.size() - expected.size());
        }
    }

    @Test
    void deletesExactlyTheSelectedHostileNamesLocally() throws Exception {
        byte[] dst = BytePaths.utf8(Files.createDirectories(tmp.resolve("dst")).toString());
        deletesExactlyTheSelection(dst, tmp.resolve("dst") + "/",
            new RsyncEndpoint("rsync", false, Duration.ofSeconds(30), false, false, java.util.Optional.empty()));
    }

    @Test
    void deletesExactlyTheSelectedHostileNamesInADaemon() throws Exception {
        byte[] module = BytePaths.utf8(Files.createDirectories(tmp.resolve("module")).toString());
        try (RsyncDaemon daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon"))
                .toString())).module("m", module).start()) {
            deletesExactlyTheSelection(module, daemon.url("m") + "/",
                new RsyncEndpoint("rsync", true, Duration.ofSeconds(30), false, false, java.util.Optional.empty()));
        }
    }
}
