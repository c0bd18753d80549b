package io.rtbackup.schema.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.schema.signing.Verification.Refused;
import io.rtbackup.schema.signing.Verification.Unverified;
import io.rtbackup.schema.signing.Verification.Verified;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signer, verifier and keyring on real key files, as {@code rtb keys generate} writes them. */
class RecordSigningTest {
    @TempDir
    Path tmp;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ConsumerRecord<byte[], byte[]> rec(String topic, byte[] key, byte[] value, Headers h) {
        return new ConsumerRecord<>(topic, 0, 0, 0, TimestampType.CREATE_TIME, -1, -1, key, value, h,
            java.util.Optional.empty());
    }

    private RecordSigner signer(String name) throws IOException {
        SigningKey.generate(tmp.resolve("keys"), name);
        return new RecordSigner(SigningKey.load(tmp.resolve("keys").resolve(name + ".key")));
    }

    private Path ring(String... names) throws IOException {
        Path ring = Files.createDirectories(tmp.resolve("ring"));
        for (String n : names) Files.copy(tmp.resolve("keys").resolve(n + ".pub"), ring.resolve(n + ".pub"));
        return ring;
    }

    @Test
    void aSignedRecordVerifiesAsTheOwnerNamedByTheFileName() throws Exception {
        RecordSigner h1 = signer("h1");
        RecordVerifier v = new RecordVerifier(Keyring.load(ring("h1")), true);
        Headers h = h1.sign("rtb.results", b("w"), b("value"));
        Verification got = v.verify(rec("rtb.results", b("w"), b("value"), h));
        assertThat(got).isEqualTo(new Verified("h1", h1.keyId()));
        assertThat(h1.keyId()).matches("ed25519:[0-9a-f]{16}");
        assertThat(PublicKeys.keyIdOf(tmp.resolve("keys/h1.pub"))).isEqualTo(h1.keyId());
        assertThat(PublicKeys.keyIdOf(tmp.resolve("keys/h1.key"))).isEqualTo(h1.keyId());
    }

    @Test
    void tamperingMovingOrResigningUnderAnotherKeyIdIsRefused() throws Exception {
        RecordSigner h1 = signer("h1");
        RecordSigner h2 = signer("h2");
        RecordVerifier v = new RecordVerifier(Keyring.load(ring("h1", "h2")), true);
        Headers h = h1.sign("rtb.results", b("w"), b("value"));
        assertThat(reason(v.verify(rec("rtb.results", b("w"), b("valuE"), h)))).isEqualTo(RejectReason.BAD_SIGNATURE);
        assertThat(reason(v.verify(rec("rtb.events", b("w"), b("value"), h)))).isEqualTo(RejectReason.BAD_SIGNATURE);
        assertThat(reason(v.verify(rec("rtb.results", b("x"), b("value"), h)))).isEqualTo(RejectReason.BAD_SIGNATURE);
        assertThat(reason(v.verify(rec("rtb.results", null, b("value"), h)))).isEqualTo(RejectReason.BAD_SIGNATURE);
        // h1's signature presented under h2's key id
        RecordHeaders moved = new RecordHeaders();
        moved.add(RecordSignature.H_KID, b(h2.keyId()));
        moved.add(RecordSignature.H_SIG, h.lastHeader(RecordSignature.H_SIG).value());
        assertThat(reason(v.verify(rec("rtb.results", b("w"), b("value"), moved))))
            .isEqualTo(RejectReason.BAD_SIGNATURE);
        RecordHeaders half = new RecordHeaders();
        half.add(RecordSignature.H_KID, b(h1.keyId()));
        assertThat(reason(v.verify(rec("rtb.results", b("w"), b("value"), half)))).isEqualTo(RejectReason.MALFORMED);
    }

    @Test
    void anotherSignersRecordIsRefusedWhenBoundToAPrincipal() throws Exception {
        RecordSigner h2 = signer("h2");
        signer("h1");
        RecordVerifier v = new RecordVerifier(Keyring.load(ring("h1", "h2")), true);
        ConsumerRecord<byte[], byte[]> r = rec("rtb.results", b("w"), b("v"), h2.sign("rtb.results", b("w"), b("v")));
        assertThat(v.verifyAs(r, "h2")).isInstanceOf(Verified.class);
        assertThat(reason(v.verifyAs(r, "h1"))).isEqualTo(RejectReason.WRONG_SIGNER);
    }

    @Test
    void unknownKeysAndUnsignedRecordsFollowTheRequiredSetting() throws Exception {
        RecordSigner stranger = signer("stranger");
        signer("h1");
        Keyring ring = Keyring.load(ring("h1"));
        ConsumerRecord<byte[], byte[]> foreign = rec("t", b("k"), b("v"), stranger.sign("t", b("k"), b("v")));
        ConsumerRecord<byte[], byte[]> unsigned = rec("t", b("k"), b("v"), new RecordHeaders());
        assertThat(reason(new RecordVerifier(ring, true).verify(foreign))).isEqualTo(RejectReason.UNKNOWN_KEY);
        assertThat(reason(new RecordVerifier(ring, false).verify(foreign))).isEqualTo(RejectReason.UNKNOWN_KEY);
        assertThat(reason(new RecordVerifier(ring, true).verify(unsigned))).isEqualTo(RejectReason.UNSIGNED);
        assertThat(new RecordVerifier(ring, false).verify(unsigned)).isInstanceOf(Unverified.class);
        assertThat(RecordVerifier.NONE.verify(foreign)).isInstanceOf(Unverified.class);
        assertThat(RecordSigner.NONE.sign("t", b("k"), b("v")).toArray()).isEmpty();
    }

    @Test
    void aKeyReadableByOthersIsRefusedAndGeneratedFilesAreOwnerOnly() throws Exception {
        SigningKey.generate(tmp.resolve("keys"), "w1");
        Path key = tmp.resolve("keys/w1.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> SigningKey.load(key)).hasMessageContaining(key.toString())
            .hasMessageContaining("chmod 600");
        assertThatThrownBy(() -> SigningKey.generate(tmp.resolve("keys"), "w1"))
            .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
        assertThatThrownBy(() -> SigningKey.generate(tmp.resolve("keys"), "../x")).hasMessageContaining("key name");
    }

    @Test
    void theKeyIdOfALoadedPrivateKeyIsThatOfItsGeneratedPublicHalf() throws Exception {
        for (int i = 0; i < 20; i++) {
            String id = SigningKey.generate(tmp.resolve("k" + i), "n");
            assertThat(SigningKey.load(tmp.resolve("k" + i).resolve("n.key")).keyId()).isEqualTo(id);
        }
    }

    /**
     * Rotation as docs/security-signing.md describes it, on real keyring files: the new public key is appended to
     * the keyring (both verify), the signer switches to the new key, the old one is removed (only the new verifies).
     */
    @Test
    void rotationAsDocumented() throws Exception {
        RecordSigner old = signer("h1");
        Path ring = ring("h1");
        ConsumerRecord<byte[], byte[]> byOld = rec("t", b("k"), b("v"), old.sign("t", b("k"), b("v")));
        // 1. a new key for h1; its .pub goes into the keyring next to the old one; restart the verifiers
        SigningKey.generate(tmp.resolve("new"), "h1");
        Files.copy(tmp.resolve("new/h1.pub"), ring.resolve("h1.2026-12.pub"));
        RecordVerifier both = new RecordVerifier(Keyring.load(ring), true);
        RecordSigner rotated = new RecordSigner(SigningKey.load(tmp.resolve("new/h1.key")));
        ConsumerRecord<byte[], byte[]> byNew = rec("t", b("k"), b("v"), rotated.sign("t", b("k"), b("v")));
        assertThat(both.verify(byOld)).isEqualTo(new Verified("h1", old.keyId()));
        assertThat(both.verify(byNew)).isEqualTo(new Verified("h1", rotated.keyId()));
        // 2. the signer uses the new key; 3. the old .pub is removed and the verifiers restarted
        Files.delete(ring.resolve("h1.pub"));
        RecordVerifier after = new RecordVerifier(Keyring.load(ring), true);
        assertThat(after.verify(byNew)).isEqualTo(new Verified("h1", rotated.keyId()));
        assertThat(reason(after.verify(byOld))).isEqualTo(RejectReason.UNKNOWN_KEY);
    }

    @Test
    void settingsRequireSignaturesWheneverAKeyringIsSet() {
        java.util.Properties p = new java.util.Properties();
        assertThat(SigningSettings.from(p).required()).isFalse();
        assertThat(SigningSettings.from(p).warning("results")).get().asString().contains("not authenticated");
        p.setProperty(SigningSettings.KEYRING, "/x");
        assertThat(SigningSettings.from(p).required()).isTrue();
        assertThat(SigningSettings.from(p).warning("results")).isEmpty();
        p.setProperty(SigningSettings.REQUIRED, "false");
        assertThat(SigningSettings.from(p).required()).isFalse();
        p.setProperty(SigningSettings.REQUIRED, "yes");
        assertThatThrownBy(() -> SigningSettings.from(p)).hasMessageContaining("signing.required");
    }

    private static RejectReason reason(Verification v) {
        assertThat(v).isInstanceOf(Refused.class);
        return ((Refused) v).reason();
    }
}
