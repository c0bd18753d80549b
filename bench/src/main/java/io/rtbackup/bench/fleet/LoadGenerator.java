package io.rtbackup.bench.fleet;

import java.util.Random;

/**
 * Changes files on the simulated fleet at a steady rate: every 10 ms it publishes what is due for
 * {@code eventsPerSecond}; each change picks a host uniformly and a path by a Zipf law over the host's
 * {@code filesPerHost} paths ({@code dir<k mod 16>/file-<k>}), so a few files per host are hot, as edited
 * documents and logs are.
 */
final class LoadGenerator implements AutoCloseable {
    private final SimulatedAgents agents;
    private final int hosts;
    private final int eventsPerSecond;
    private final double[] cumulative;
    private final Random random = new Random(42);
    private volatile boolean running = true;
    private final Thread thread;

    LoadGenerator(SimulatedAgents agents, int hosts, int eventsPerSecond, int filesPerHost, double zipf) {
        this.agents = agents;
        this.hosts = hosts;
        this.eventsPerSecond = eventsPerSecond;
        this.cumulative = new double[filesPerHost];
        double sum = 0;
        for (int k = 0; k < filesPerHost; k++) {
            sum += 1.0 / Math.pow(k + 1, zipf);
            cumulative[k] = sum;
        }
        for (int k = 0; k < filesPerHost; k++) cumulative[k] /= sum;
        this.thread = new Thread(this::run, "fleet-sim-load");
        thread.setDaemon(true);
    }

    static String hostName(int i) {
        return String.format("host-%05d", i);
    }

    LoadGenerator start() {
        thread.start();
        return this;
    }

    private void run() {
        long start = System.nanoTime();
        long sent = 0;
        while (running) {
            long due = (long) ((System.nanoTime() - start) / 1e9 * eventsPerSecond);
            for (; sent < due && running; sent++) {
                agents.change(hostName(random.nextInt(hosts)), path());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private String path() {
        double u = random.nextDouble();
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) lo = mid + 1;
            else hi = mid;
        }
        return "dir" + (lo % 16) + "/file-" + lo;
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
