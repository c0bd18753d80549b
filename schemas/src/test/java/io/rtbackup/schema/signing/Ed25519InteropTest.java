package io.rtbackup.schema.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.schema.signing.Verification.Refused;
import io.rtbackup.schema.signing.Verification.Verified;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * The signatures {@link RecordSigner} makes are the JDK's Ed25519 signatures byte for byte, so records of agents and
 * workers from before the switch to {@link Ed25519} verify, and theirs verify ours.
 */
class Ed25519InteropTest {
    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = "a value\n\u00e9".getBytes(StandardCharsets.UTF_8);

    private static byte[] jdkSign(KeyPair pair, byte[] message) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(pair.getPrivate());
        s.update(message);
        return s.sign();
    }

    @Test
    void aRecordSignedByTheJdkVerifiesAndOursVerifyWithTheJdk() throws Exception {
        KeyPair pair = SigningKey.generate();
        String kid = RecordSignature.keyId(pair.getPublic());
        RecordVerifier verifier = new RecordVerifier(Keyring.of(Map.of("h1", pair.getPublic())), true);
        byte[] message = RecordSignature.message("rtb.events", KEY, VALUE, kid);

        RecordHeaders old = new RecordHeaders();
        old.add(RecordSignature.H_KID, kid.getBytes(StandardCharsets.UTF_8));
        old.add(RecordSignature.H_SIG, jdkSign(pair, message));
        assertThat(verifier.verify("rtb.events", KEY, VALUE, old)).isEqualTo(new Verified("h1", kid));

        Headers ours = new RecordSigner(new SigningKey(pair.getPrivate(), kid)).sign("rtb.events", KEY, VALUE);
        byte[] sig = ours.lastHeader(RecordSignature.H_SIG).value();
        assertThat(sig).isEqualTo(jdkSign(pair, message));
        Signature check = Signature.getInstance("Ed25519");
        check.initVerify(pair.getPublic());
        check.update(message);
        assertThat(check.verify(sig)).isTrue();
    }

    @Test
    void aSignatureOfTheWrongLengthIsMalformedAndAFlippedBitIsBad() throws Exception {
        KeyPair pair = SigningKey.generate();
        String kid = RecordSignature.keyId(pair.getPublic());
        RecordVerifier verifier = new RecordVerifier(Keyring.of(Map.of("h1", pair.getPublic())), true);
        byte[] sig = new RecordSigner(new SigningKey(pair.getPrivate(), kid)).sign("t", KEY, VALUE)
            .lastHeader(RecordSignature.H_SIG).value();
        for (int len : new int[] {0, 63, 65}) {
            byte[] cut = java.util.Arrays.copyOf(sig, len);
            assertThat(verifier.verify("t", KEY, VALUE, headers(kid, cut))).isInstanceOfSatisfying(Refused.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.MALFORMED));
        }
        byte[] flipped = sig.clone();
        flipped[40] ^= 1;
        assertThat(verifier.verify("t", KEY, VALUE, headers(kid, flipped))).isInstanceOfSatisfying(Refused.class,
            r -> assertThat(r.reason()).isEqualTo(RejectReason.BAD_SIGNATURE));
    }

    @Test
    void aKeyOfAnotherAlgorithmIsRefusedWithWhatToDo() throws Exception {
        KeyPair ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair();
        assertThatThrownBy(() -> new RecordSigner(new SigningKey(ed448.getPrivate(), "x")))
            .hasMessageContaining("not Ed25519").hasMessageContaining("rtb keys generate");
        RecordVerifier verifier = new RecordVerifier(Keyring.of(Map.of("h1", ed448.getPublic())), true);
        String kid = RecordSignature.keyId(ed448.getPublic());
        assertThat(verifier.verify("t", KEY, VALUE, headers(kid, new byte[64]))).isInstanceOfSatisfying(
            Refused.class, r -> assertThat(r.detail()).contains("not Ed25519"));
    }

    private static Headers headers(String kid, byte[] sig) {
        RecordHeaders h = new RecordHeaders();
        h.add(RecordSignature.H_KID, kid.getBytes(StandardCharsets.UTF_8));
        h.add(RecordSignature.H_SIG, sig);
        return h;
    }
}
