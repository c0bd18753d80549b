package io.rtbackup.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.worker.route.DestinationRoutes;
import io.rtbackup.worker.route.RootKey;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void minimalConfigGetsDefaults() {
        WorkerConfig c = WorkerConfig.fromProperties(props("worker.id", "w1", "destination.nas.routes", "*:*"));
        assertThat(c.workerId()).isEqualTo("w1");
        assertThat(c.destinations()).singleElement().satisfies(d -> {
            assertThat(d.name()).isEqualTo("nas");
            assertThat(d.consumerGroup()).isEqualTo("rtb-dest-nas");
            assertThat(d.remotePrefix("web1", "etc")).isEqualTo("web1/etc/");
        });
        assertThat(c.coalesce().debounce()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.coalesce().maxDelay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.coalesce().batchMaxPaths()).isEqualTo(1000);
        assertThat(c.retry().maxAttempts()).isEqualTo(5);
        assertThat(c.breaker().halfOpenCalls()).isEqualTo(1);
        assertThat(c.bulkheadMaxConcurrent()).isEqualTo(WorkerConfig.DEFAULT_BULKHEAD).isEqualTo(64);
        assertThat(c.bulkheadMaxPerHost()).isEqualTo(WorkerConfig.DEFAULT_BULKHEAD_PER_HOST).isEqualTo(4);
        assertThat(c.kafka()).isEmpty();
    }

    @Test
    void everySettingIsRead() {
        WorkerConfig c = WorkerConfig.fromProperties(props(
            "worker.id", "w-2",
            "destination.a.routes", "web-*:www, db?:*",
            "destination.a.prefix", "fleet/{host}/{root}",
            "destination.b.routes", "*:etc",
            "coalesce.debounce-ms", "20", "coalesce.max-delay-ms", "300", "coalesce.batch-max-paths", "50",
            "coalesce.max-pending-paths", "5000", "coalesce.catch-up-lag", "10",
            "retry.max-attempts", "3", "retry.initial-backoff-ms", "10", "retry.multiplier", "1.5",
            "retry.max-backoff-ms", "100",
            "breaker.failure-rate-threshold", "75", "breaker.sliding-window", "4", "breaker.minimum-calls", "2",
            "breaker.open-wait-ms", "500", "breaker.half-open-calls", "2",
            "bulkhead.max-concurrent", "8", "bulkhead.max-per-host", "3",
            "result.timeout-ms", "2000", "result.full-sync-timeout-ms", "9000", "commit.interval-ms", "50",
            "status.interval-ms", "700",
            "kafka.security.protocol", "PLAINTEXT",
            "agent.unrelated", "ignored"));
        assertThat(c.destinations()).extracting(DestinationConfig::name).containsExactly("a", "b");
        DestinationConfig a = c.destination("a");
        assertThat(a.prefixTemplate()).isEqualTo("fleet/{host}/{root}/");
        assertThat(a.remotePrefix("web-1", "www")).isEqualTo("fleet/web-1/www/");
        assertThat(c.coalesce()).isEqualTo(new CoalesceSettings(Duration.ofMillis(20), Duration.ofMillis(300), 50, 5000, 10));
        assertThat(c.retry()).isEqualTo(new RetrySettings(3, Duration.ofMillis(10), 1.5, Duration.ofMillis(100)));
        assertThat(c.breaker()).isEqualTo(new BreakerSettings(75f, 4, 2, Duration.ofMillis(500), 2));
        assertThat(WorkerConfig.fromProperties(props("worker.id", "w", "destination.a.routes", "*:*",
            "breaker.open-wait-ms", "250", "breaker.max-open-wait-ms", "9000")).breaker())
            .isEqualTo(new BreakerSettings(50f, 10, 3, Duration.ofMillis(250), Duration.ofSeconds(9), 1));
        assertThat(c.bulkheadMaxConcurrent()).isEqualTo(8);
        assertThat(c.bulkheadMaxPerHost()).isEqualTo(3);
        assertThat(c.resultTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.fullSyncResultTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(c.commitInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.statusInterval()).isEqualTo(Duration.ofMillis(700));
        assertThat(c.kafka()).containsEntry("security.protocol", "PLAINTEXT");
    }

    @Test
    void stuckPathsAreRetriedEveryMinuteUnlessSaidOtherwise() {
        assertThat(WorkerConfig.fromProperties(props("worker.id", "w", "destination.a.routes", "*:*")).retry()
            .stuckInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(WorkerConfig.fromProperties(props("worker.id", "w", "destination.a.routes", "*:*",
            "retry.stuck-interval-ms", "2500")).retry().stuckInterval()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void routesMatchHostAndRootGlobs() {
        WorkerConfig c = WorkerConfig.fromProperties(props("worker.id", "w",
            "destination.a.routes", "web-*:www,db?:*",
            "destination.b.routes", "*:etc"));
        DestinationRoutes a = new DestinationRoutes(c.destination("a"));
        DestinationRoutes b = new DestinationRoutes(c.destination("b"));
        assertThat(a.prefixFor(new RootKey("web-12", "www"))).hasValue("web-12/www/");
        assertThat(a.routed(new RootKey("web-12", "etc"))).isFalse();
        assertThat(a.routed(new RootKey("db1", "anything"))).isTrue();
        assertThat(a.routed(new RootKey("db12", "anything"))).isFalse();
        assertThat(a.routed(new RootKey("xweb-1", "www"))).isFalse();
        assertThat(b.routed(new RootKey("web-12", "etc"))).isTrue();
        assertThat(b.routed(new RootKey("web-12", "www"))).isFalse();
    }

    @Test
    void servedDestinationsCanBeLimited() {
        WorkerConfig c = WorkerConfig.fromProperties(props("worker.id", "w", "worker.destinations", "b",
            "destination.a.routes", "*:*", "destination.b.routes", "*:*"));
        assertThat(c.destinations()).extracting(DestinationConfig::name).containsExactly("b");
    }

    @Test
    void globs() {
        assertThat(new Glob("*").matches("")).isTrue();
        assertThat(new Glob("a*b*c").matches("aXXbYc")).isTrue();
        assertThat(new Glob("a*b*c").matches("aXXbY")).isFalse();
        assertThat(new Glob("h?").matches("h1")).isTrue();
        assertThat(new Glob("h?").matches("h12")).isFalse();
        assertThat(new Glob("*.example.com").matches("web.example.com")).isTrue();
        assertThat(new Glob("web").matches("web")).isTrue();
        assertThat(new Glob("web").matches("webx")).isFalse();
    }

    @Test
    void errorsNameTheKey() {
        assertError(props("destination.a.routes", "*:*"), "worker.id");
        assertError(props("worker.id", "w"), "destination.<name>.routes");
        assertError(props("worker.id", "w", "destination.a.routes", "web1"), "destination.a.routes");
        assertError(props("worker.id", "w", "destination.a.routes", "a:b:c"), "destination.a.routes");
        assertError(props("worker.id", "w", "destination.a.routes", "a/b:c"), "destination.a.routes");
        assertError(props("worker.id", "w", "destination.a.prefix", "x/"), "destination.a.routes");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "{hostname}/"),
            "destination.a.prefix");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "../{host}"),
            "destination.a.prefix");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "/abs"),
            "destination.a.prefix");
        // What the agents refuse to execute is refused here, naming the key.
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "my backups/{host}"),
            "destination.a.prefix");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "a//{host}"),
            "destination.a.prefix");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.prefix", "/"),
            "destination.a.prefix");
        assertError(props("worker.id", "w", "destination.-a.routes", "*:*"), "destination.-a.routes");
        assertError(props("worker.id", "w", "destination." + "d".repeat(65) + ".routes", "*:*"),
            "destination." + "d".repeat(65) + ".routes");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "destination.a.rotues", "x"),
            "destination.a.rotues");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "coalesce.debounce", "5"),
            "coalesce.debounce");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "coalesce.debounce-ms", "fast"),
            "coalesce.debounce-ms");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "coalesce.batch-max-paths", "0"),
            "coalesce.batch-max-paths");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "coalesce.debounce-ms", "500",
            "coalesce.max-delay-ms", "100"), "coalesce.*");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "retry.multiplier", "0.5"),
            "retry.multiplier");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "bulkhead.max-concurrent", "-1"),
            "bulkhead.max-concurrent");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "worker.destinations", "nope"),
            "worker.destinations");
        assertError(props("worker.id", "bad id", "destination.a.routes", "*:*"), "worker.id");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "status.interval-ms", "10"),
            "status.interval-ms");
        assertError(props("worker.id", "w", "destination.a.routes", "*:*", "status.intervall-ms", "1000"),
            "status.intervall-ms");
    }

    private static void assertError(Properties p, String key) {
        assertThatThrownBy(() -> WorkerConfig.fromProperties(p))
            .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(key))
            .hasMessageContaining(key);
    }
}
