package io.rtbackup.cli.e2e;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded random workloads against the real pipeline; each seed ends with both destinations byte-for-byte equal to
 * the source. CI runs three fixed seeds; a soak run picks its own:
 * <pre>
 * mvn -B -o -pl cli -am verify -Dtest=ConvergenceTest -Dsurefire.failIfNoSpecifiedTests=false -Dseeds=100 -Dops=2000
 * </pre>
 * {@code -Dseeds=N} runs seeds 1..N, {@code -Dseeds=4,17,99} those seeds, {@code -Dseed=17} just that one (what a
 * failure message asks for); {@code -Dops=} sets the operations per seed.
 */
@ExtendWith({KafkaBrokerExtension.class, LostSummary.class})
class ConvergenceTest {
    static final int DEFAULT_OPS = 300;

    @TestFactory
    Stream<DynamicTest> everySeedConverges(KafkaBroker broker) {
        int ops = Integer.getInteger("ops", DEFAULT_OPS);
        return seeds().stream().map(seed -> DynamicTest.dynamicTest("seed " + seed + ", " + ops + " ops",
            () -> runSeed(broker, seed, ops)));
    }

    static List<Long> seeds() {
        String one = System.getProperty("seed");
        if (one != null && !one.isBlank()) return List.of(Long.parseLong(one.trim()));
        String spec = System.getProperty("seeds", "1,2,3").trim();
        List<Long> out = new ArrayList<>();
        if (spec.contains(",")) {
            for (String s : spec.split(",")) if (!s.isBlank()) out.add(Long.parseLong(s.trim()));
        } else {
            for (long s = 1; s <= Long.parseLong(spec); s++) out.add(s);
        }
        return out;
    }

    private static void runSeed(KafkaBroker broker, long seed, int ops) throws Exception {
        long t0 = System.nanoTime();
        try (Fleet fleet = new Fleet(broker)) {
            fleet.withCommandTimeout(Duration.ofSeconds(40));
            Workload w = new Workload(fleet.source, seed);
            // Some of it before the agent runs: the start-up rescan must carry it.
            w.run(ops / 10, 0);
            fleet.startWorker().startAgent();
            w.run(ops - ops / 10, 25);
            LostSummary.SCENARIOS.incrementAndGet();
            LostSummary.OPERATIONS.addAndGet(w.applied());
            Convergence.await(fleet, w, "convergence", Duration.ofSeconds(120));
        }
        System.out.printf("convergence seed %d: %d ms%n", seed, (System.nanoTime() - t0) / 1_000_000);
    }
}
