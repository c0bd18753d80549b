package io.rtbackup.process;

import java.time.Duration;

/**
 * A process for {@link ExitingFatalErrorHandlerProcessTest}: a thread fails while the main thread would keep the
 * JVM alive for a minute; a shutdown hook prints and, with {@code hang}, never finishes.
 */
public final class FatalDemo {
    private FatalDemo() {}

    public static void main(String[] args) throws Exception {
        boolean hang = args.length > 0 && args[0].equals("hang");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutdown hook ran");
            System.out.flush();
            if (hang) sleep(Duration.ofMinutes(1));
        }));
        FatalErrorHandler fatal = ExitingFatalErrorHandler.forThisJvm("fatal demo",
            hang ? Duration.ofMillis(500) : Duration.ofSeconds(30));
        new Thread(fatal.guard("demo worker", () -> {
            throw new IllegalStateException("boom");
        }), "demo-worker").start();
        sleep(Duration.ofMinutes(1));
        System.exit(0);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
