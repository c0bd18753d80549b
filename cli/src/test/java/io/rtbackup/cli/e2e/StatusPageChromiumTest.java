package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.MetricsEndpoint;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.status.StatusHttpHandler;
import io.rtbackup.status.StatusReader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page as a browser shows it: a fleet does real work, the page is served exactly as {@code rtb worker}
 * serves it (metrics endpoint, status handler, Kafka status reader), and headless Chromium renders it. The DOM it
 * built must hold the real destinations with their sync counts and a recent-sync row for the real path, with a
 * hostile file name shown as text, and a screenshot is saved under target/ for a human to look at.
 *
 * <p>Needs Debian's {@code chromium} package (run-tests installs it). Without it the test fails: a silently
 * skipped browser test would pass CI with the page broken.
 */
@ExtendWith(KafkaBrokerExtension.class)
class StatusPageChromiumTest {
    private static final Pattern ROW = Pattern.compile("<tr data-destination=\"([^\"]+)\"[^>]*>(.*?)</tr>", Pattern.DOTALL);
    private static final Pattern CELL = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL);
    private static final Duration BROWSER_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    @Test
    void chromiumShowsTheRealDestinationsAndSyncs(KafkaBroker broker) throws Exception {
        Path chromium = DevToolsBrowser.chromium();
        try (Fleet fleet = new Fleet(broker);
             StatusReader reader = new StatusReader(broker.bootstrapServers(), fleet.topics, Map.of(),
                 Duration.ofSeconds(30), StatusReader.DEFAULT_SCAN_LIMIT, System::currentTimeMillis);
             MetricsEndpoint endpoint = MetricsEndpoint.start(fleet.registry, MetricsEndpoint.DEFAULT_HOST, DevToolsBrowser.freePort(),
                 new StatusHttpHandler(() -> reader.read(List.of("d1", "d2")), "rtb worker chromium-test",
                     Duration.ofSeconds(1)))) {
            fleet.startWorker().startAgent();
            // The start-up full syncs come first; the change after them is synced as a path the page can name.
            await().atMost(Duration.ofSeconds(60)).until(() -> fleet.reports.stream().filter(r -> r.fullSync()).count() >= 2);
            ByteFs.write(join(fleet.source, utf8("status-page-file.txt")), utf8("shown on the page"));
            // Printable bytes the page must show as text, not markup: the browser must not build a <b> element.
            // And a byte that is not UTF-8: shown as \xff.
            byte[] hostile = utf8("x<b>bold&amp;?.txt");
            hostile[hostile.length - 5] = (byte) 0xff;
            ByteFs.write(join(fleet.source, hostile), utf8("hostile"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));
            String url = "http://127.0.0.1:" + endpoint.port() + "/status";

            String dom = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(
                () -> dumpDom(chromium, url), d -> d.contains("status-page-file.txt") && d.contains("x&lt;b&gt;bold")
                    && syncsOk(d, "d1") > 0 && syncsOk(d, "d2") > 0);
            assertThat(rows(dom)).containsOnlyKeys("d1", "d2");
            assertThat(syncsOk(dom, "d1")).isPositive();
            assertThat(syncsOk(dom, "d2")).isPositive();
            Matcher recent = Pattern.compile("<table id=\"recent-syncs\">(.*?)</table>", Pattern.DOTALL).matcher(dom);
            assertThat(recent.find()).as(dom).isTrue();
            assertThat(recent.group(1)).contains(Fleet.HOST).contains(Fleet.ROOT).contains("status-page-file.txt")
                .contains("OK");
            // The file name stayed text: escaped in the serialized DOM, and no element came out of it.
            assertThat(dom).contains("x&lt;b&gt;bold&amp;amp;\\xff.txt").doesNotContain("<b>bold");

            Path png = Path.of("target", "status-page.png").toAbsolutePath();
            Files.createDirectories(png.getParent());
            Files.deleteIfExists(png);
            run(chromium, List.of("--screenshot=" + png, "--window-size=1280,900", url));
            byte[] bytes = Files.readAllBytes(png);
            assertThat(bytes).as("PNG signature").startsWith(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a);
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image.getWidth()).isEqualTo(1280);
            assertThat(image.getHeight()).isEqualTo(900);
            Set<Integer> colours = new HashSet<>();
            for (int y = 0; y < image.getHeight(); y += 3) for (int x = 0; x < image.getWidth(); x += 3) colours.add(image.getRGB(x, y));
            // Text, table borders and the coloured cells: a blank or error page has a handful of colours at most.
            assertThat(colours.size()).as("distinct colours in %s", png).isGreaterThan(20);
            System.out.println("status page screenshot: " + png + " (" + bytes.length + " bytes, " + colours.size()
                + " colours sampled)");
        }
    }

    /** The rows of the destinations table, by destination, as cell texts. */
    static Map<String, List<String>> rows(String dom) {
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        Matcher m = ROW.matcher(dom);
        while (m.find()) {
            List<String> cells = new ArrayList<>();
            Matcher c = CELL.matcher(m.group(2));
            while (c.find()) cells.add(c.group(1));
            out.put(m.group(1), cells);
        }
        return out;
    }

    /** The "Syncs OK" column (7th) of a destination's row; -1 when the row is not there. */
    static long syncsOk(String dom, String destination) {
        List<String> cells = rows(dom).get(destination);
        if (cells == null || cells.size() < 7) return -1;
        assertThat(cells.get(0)).isEqualTo(destination);
        return Long.parseLong(cells.get(6).trim());
    }

    private String dumpDom(Path chromium, String url) throws Exception {
        return run(chromium, List.of("--dump-dom", url));
    }

    /** Runs headless Chromium with an argument list (no shell), a timeout, and its whole process tree killed after. */
    private String run(Path chromium, List<String> extra) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        Path out = tmp.resolve("chromium-" + System.nanoTime() + ".out");
        Path err = tmp.resolve("chromium-" + System.nanoTime() + ".err");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--user-data-dir=" + profile));
        cmd.addAll(extra);
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(BROWSER_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("chromium did not finish within " + BROWSER_TIMEOUT.toSeconds() + " s: "
                    + cmd + "\n" + tail(err));
            }
            if (p.exitValue() != 0) throw new AssertionError("chromium exited " + p.exitValue() + ": " + cmd + "\n" + tail(err));
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            try (Stream<ProcessHandle> children = p.descendants()) {
                children.forEach(ProcessHandle::destroyForcibly);
            }
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String tail(Path f) throws IOException {
        String s = Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "";
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }
}
