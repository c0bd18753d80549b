package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.exclude.ExcludeMatcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules {@link RsyncExcludes} gives rsync make the same decisions as {@link ExcludeMatcher}, judged by real
 * rsync 3.2.7 on a tree of awkward names: what a whole-root copy sends, what a listed run ({@code --files-from},
 * the planner dropping excluded listed paths first) sends, and what a {@code --delete} run leaves on the receiver.
 */
class RsyncExcludesTest {
    @TempDir
    Path tmp;

    /** Files of the tree (their directories are created on the way). */
    static final List<String> FILES = List.of(
        "x.tmp", "a/b/c.tmp", "a/c.tmp", "a/b/keep", "ab", "a.b", "secret.key", "sub/secret.key",
        "dir with space/file name", "-lead", "-lead dir/-f", "star*name", "starname", "q?mark", "qxmark",
        "br[ack]et", "bracket", "back\\slash", "backslash", "new\nline", "cache/deep/k.key", ".cache/y",
        "x/.cache/y", "logs/2024/app.log", "logs", "build/out/x", "src/build/out/y", "src/deep/er/y", "**", "*",
        "a/b/x/y/c.tmp", " lead space", "trail space ", "#hash", ";semi", "!bang", "+ plus", "- minus",
        "comma,name", "out");

    /** Globs as root.<id>.exclude gives them, each alone and all together. */
    static final List<String> GLOBS = List.of(
        "*.tmp", "secret.key", "/secret.key", "/build", "build/out", "out", "logs/**", "**/out", "a/**/c.tmp",
        "src/**/y", "/**/y", "***/y", "**/**/y", "star\\*name", "star*", "q\\?mark", "q?mark", "br[ack]et",
        "back\\\\slash", "back\\slash", "new\nline", "dir with space", "-lead", "-lead dir/-f", "*ine",
        ".cache/", "/a/b", "a/*", "*/secret.key", "**.key", "a**b", "**", "*", "\\*", "\\*\\*", "\\**",
        "a/b/**", "a/b/***", " lead space", "trail space ", "#hash", ";semi", "!bang", "+ plus", "- minus", "!",
        "comma,name", "cache/deep", "/src/*/out", "*/*/y", "s?c/**", "\\", "x/", "a/b/x/**/c.tmp");

    @Test
    void rsyncSendsExactlyWhatTheMatcherDoesNotExclude() throws Exception {
        Path src = tree("src");
        for (List<String> globs : cases()) {
            ExcludeMatcher matcher = new ExcludeMatcher(globs);
            RsyncExcludes rules = RsyncExcludes.of(globs);
            TreeSet<String> expected = new TreeSet<>();
            for (String p : paths(src)) if (!matcher.excluded(bytes(p))) expected.add(p);

            Path whole = fresh("whole");
            rsync(rules.filterArgs(), List.of("-a"), null, src, whole);
            assertThat(paths(whole)).as("whole-root copy with %s (rules %s)", globs, rules.patterns())
                .isEqualTo(expected);

            // A listed run: the planner drops excluded listed paths, rsync filters what is below the others.
            Path listed = fresh("listed");
            List<String> list = new ArrayList<>();
            try (Stream<Path> top = Files.list(src)) {
                top.map(p -> p.getFileName().toString()).filter(n -> !matcher.excluded(bytes(n))).forEach(list::add);
            }
            rsync(rules.filterArgs(), List.of("-a", "-r", "--files-from=-", "--from0"), list, src, listed);
            assertThat(paths(listed)).as("listed run with %s (rules %s)", globs, rules.patterns())
                .isEqualTo(expected);
        }
    }

    @Test
    void aDeleteRunLeavesExcludedEntriesUnlessDeleteExcluded() throws Exception {
        Path empty = fresh("empty");
        for (List<String> globs : cases()) {
            ExcludeMatcher matcher = new ExcludeMatcher(globs);
            RsyncExcludes rules = RsyncExcludes.of(globs);
            Path replica = tree("replica");
            TreeSet<String> all = paths(replica);
            // What stays: excluded entries, and the directories holding one.
            TreeSet<String> expected = new TreeSet<>();
            for (String p : all) {
                if (matcher.excluded(bytes(p))) expected.add(p);
                else if (all.stream().anyMatch(q -> q.startsWith(p + "/") && matcher.excluded(bytes(q)))) expected.add(p);
            }
            rsync(rules.filterArgs(), List.of("-a", "--delete"), null, empty, replica);
            assertThat(paths(replica)).as("--delete with %s (rules %s)", globs, rules.patterns()).isEqualTo(expected);

            List<String> deleting = new ArrayList<>(rules.filterArgs());
            deleting.add(RsyncExcludes.DELETE_EXCLUDED);
            rsync(deleting, List.of("-a", "--delete"), null, empty, replica);
            assertThat(paths(replica)).as("--delete-excluded with %s", globs).isEmpty();
        }
    }

    @Test
    void translation() {
        assertThat(RsyncExcludes.of(List.of("*.tmp", "/build/", "a/**/b", "x\\*y", "a**b", "p[1]", "\\q")).patterns())
            .containsExactly("*.tmp", "/build", "/a/b", "/a/**/b", "x[*]y", "a*b", "p[[]1]", "q");
        assertThat(RsyncExcludes.of(List.of("*.tmp")).anchored()).isFalse();
        assertThat(RsyncExcludes.of(List.of("a/b")).anchored()).isTrue();
        assertThat(RsyncExcludes.of(List.of("- x")).filterArgs()).containsExactly("--filter=- - x");
        assertThat(RsyncExcludes.of(List.of("/", "")).isEmpty()).isTrue();
        assertThatThrownBy(() -> RsyncExcludes.of(List.of("caf\u00e9"))).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("non-ASCII");
    }

    private List<List<String>> cases() {
        List<List<String>> out = new ArrayList<>();
        for (String g : GLOBS) out.add(List.of(g));
        out.add(GLOBS.stream().filter(g -> !g.equals("**") && !g.equals("*")).toList());
        return out;
    }

    private Path tree(String name) throws IOException {
        Path root = fresh(name);
        for (String f : FILES) {
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            if (Files.isDirectory(p)) continue; // "logs" is a directory of "logs/2024/app.log" already
            Files.writeString(p, f);
        }
        return root;
    }

    private Path fresh(String name) throws IOException {
        Path p = tmp.resolve(name + "-" + System.nanoTime());
        return Files.createDirectories(p);
    }

    /** Every path below {@code root}, relative, files and directories. */
    static TreeSet<String> paths(Path root) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p).toString()));
        }
        return out;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void rsync(List<String> filters, List<String> options, List<String> filesFrom, Path src,
            Path dst) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("rsync"));
        cmd.addAll(options);
        cmd.addAll(filters);
        cmd.add(src + "/");
        cmd.add(dst + "/");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (filesFrom != null) {
                for (String f : filesFrom) {
                    in.write(bytes("./" + f));
                    in.write(0);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor()).as("rsync %s: %s", cmd, out.toString(StandardCharsets.UTF_8)).isZero();
    }
}
