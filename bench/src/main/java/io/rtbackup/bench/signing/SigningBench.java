package io.rtbackup.bench.signing;

import io.rtbackup.schema.signing.Keyring;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.schema.signing.Verification;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.header.Headers;

/**
 * {@code bench/run signing}: what signing and verifying one record costs (µs per record, one thread), with the
 * very classes agents and workers use, on a record of typical size (a FileEvent-sized value, 300 bytes; an event
 * key of 60). Warm-up first, then the median of five timed rounds. Prints the JVM it ran on.
 */
public final class SigningBench {
    private SigningBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path dir = Files.createTempDirectory("rtb-signing-bench");
        SigningKey.generate(dir.resolve("keys"), "h1");
        RecordSigner signer = new RecordSigner(SigningKey.load(dir.resolve("keys/h1.key")));
        RecordVerifier verifier = new RecordVerifier(Keyring.of(Map.of("h1",
            io.rtbackup.schema.signing.PublicKeys.read(dir.resolve("keys/h1.pub")))), true);
        byte[] key = new byte[60];
        byte[] value = new byte[300];
        new Random(1).nextBytes(key);
        new Random(2).nextBytes(value);
        Headers[] signed = new Headers[n];
        for (int i = 0; i < n; i++) signed[i] = signer.sign("rtb.events", key, value); // warm-up
        for (int i = 0; i < n; i++) check(verifier.verify("rtb.events", key, value, signed[i]));
        double[] sign = new double[5];
        double[] verify = new double[5];
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) signed[i] = signer.sign("rtb.events", key, value);
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) check(verifier.verify("rtb.events", key, value, signed[i]));
            long t2 = System.nanoTime();
            sign[round] = (t1 - t0) / 1000.0 / n;
            verify[round] = (t2 - t1) / 1000.0 / n;
        }
        java.util.Arrays.sort(sign);
        java.util.Arrays.sort(verify);
        System.out.printf(Locale.ROOT, "signing bench: %s %s, %d records per round, median of 5 rounds:%n",
            System.getProperty("java.vm.name"), System.getProperty("java.version"), n);
        System.out.printf(Locale.ROOT, "  sign   %8.1f us/record (%6.0f records/s on one core)%n", sign[2],
            1e6 / sign[2]);
        System.out.printf(Locale.ROOT, "  verify %8.1f us/record (%6.0f records/s on one core)%n", verify[2],
            1e6 / verify[2]);
    }

    private static void check(Verification v) {
        if (!(v instanceof Verification.Verified)) throw new IllegalStateException("did not verify: " + v);
    }
}
