package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromqlNamesTest {
    @Test
    void findsTheSelectedMetricsAndNothingElse() {
        assertThat(PromqlNames.of("sum by (destination) (rtb_worker_lag_events) > 10000"))
            .containsExactly("rtb_worker_lag_events");
        assertThat(PromqlNames.of("histogram_quantile(0.99, sum by (destination, le) "
            + "(rate(rtb_worker_change_to_replica_seconds_bucket{destination=~\"$destination\"}[$__rate_interval])))"))
            .containsExactly("rtb_worker_change_to_replica_seconds_bucket");
        assertThat(PromqlNames.of("sum(rate(a_total{outcome=~\"failed|x\"}[10m])) / ignoring(outcome) "
            + "sum(rate(b_total[10m] offset 1h)) > 0.1 or on (instance) up{job=\"rtbackup-agent\"} == 0"))
            .containsExactly("a_total", "b_total", "up");
        assertThat(PromqlNames.of("absent(up{job=\"rtbackup-worker\"} == 1)")).containsExactly("up");
        assertThat(PromqlNames.of("sum without (le) (rate(x_bucket [5m:1m]))")).containsExactly("x_bucket");
        assertThat(PromqlNames.of("1e3 * max(y) by (destination)")).containsExactly("y");
    }
}
