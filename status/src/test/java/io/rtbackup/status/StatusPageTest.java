package io.rtbackup.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.status.FleetStatus.DestinationStatus;
import io.rtbackup.status.FleetStatus.RecentSync;
import io.rtbackup.status.FleetStatus.RootStatus;
import io.rtbackup.status.FleetStatus.WorkerView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Everything that comes from Kafka reaches the page as text: names, paths and errors cannot inject markup. */
class StatusPageTest {

    @Test
    void hostileValuesAreEscapedEverywhere() {
        String evil = "<script>alert(1)</script>\"'&\u0007\n";
        RecentSync sync = new RecentSync(1, evil, evil, evil, "FAILED", false, 1, List.of(evil), 2, 0, 0, -1, evil);
        DestinationStatus d = new DestinationStatus(evil, "rtb-dest-x", 5, 1.5, 1, true, evil, false, 1, 1, 1, 1, evil,
            List.of(new WorkerView(evil, 1, false, true, "CLOSED", false, 0, 0, 0, 1, 0)),
            List.of(new RootStatus(evil, evil, 5, false, 1.5, 1, 1, evil,
                new FleetStatus.Reconcile(1, "FAILED", 0, 1, evil))), List.of(sync));
        String html = StatusPage.render(new FleetStatus(1, evil, List.of(d)), evil);
        assertThat(html).doesNotContain("<script").doesNotContain("\u0007").doesNotContain("'&")
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\\x07\\x0a");
        // Nothing outside the document: no script, no external stylesheet, image or font.
        assertThat(html).doesNotContain("src=").doesNotContain("<link").doesNotContain("http://")
            .doesNotContain("https://").contains("<meta http-equiv=\"refresh\"");
        assertThat(StatusPage.unavailable(evil, "t")).doesNotContain("<script").contains("&lt;script&gt;");
    }

    @Test
    void stuckPathsAreListedWithTheirReasonAndEscaped() {
        String evil = "<b>x</b>\\xff&";
        DestinationStatus d = new DestinationStatus("d1", "rtb-dest-d1", 0, 0, 0, true, "CLOSED", false, 0, 0, 0, 0,
            null, List.of(), List.of(), List.of(), List.of(new FleetStatus.StuckPath("web-1", "www", evil,
                "send_files failed to open: Permission denied (13)", 1_000, 3, "w1")));
        String html = StatusPage.render(new FleetStatus(1, "rtb.events", List.of(d)), "t");
        assertThat(html).contains("<table id=\"stuck-paths\">").doesNotContain("<b>x")
            .contains("&lt;b&gt;x&lt;/b&gt;\\xff&amp;").contains("Permission denied (13)");
        var json = StatusJson.parse(StatusJson.write(new FleetStatus(9, "rtb.events", List.of(d))));
        var stuck = json.get("destinations").get(0).get("stuckPaths").get(0);
        assertThat(stuck.get("path").asText()).isEqualTo(evil);
        assertThat(stuck.get("attempts").asInt()).isEqualTo(3);
        String none = StatusPage.render(new FleetStatus(1, "rtb.events", List.of(new DestinationStatus("d1",
            "rtb-dest-d1", 0, 0, 0, true, "CLOSED", false, 0, 0, 0, 0, null, List.of(), List.of(), List.of()))), "t");
        assertThat(none).contains("none: every source path could be read");
    }

    @Test
    void jsonCarriesTheSameSnapshot() {
        DestinationStatus d = new DestinationStatus("d1", "rtb-dest-d1", 7, 2.5, 1000, true, "OPEN", true, 3, 4, 5, 6,
            "connection refused", List.of(), List.of(), List.of());
        var json = StatusJson.parse(StatusJson.write(new FleetStatus(9, "rtb.events", List.of(d))));
        assertThat(json.get("destinations").get(0).get("lagEvents").asLong()).isEqualTo(7);
        assertThat(json.get("destinations").get(0).get("lagSeconds").asDouble()).isEqualTo(2.5);
        assertThat(json.get("destinations").get(0).get("breakerState").asText()).isEqualTo("OPEN");
        assertThat(json.get("destinations").get(0).get("lastError").asText()).isEqualTo("connection refused");
    }
}
