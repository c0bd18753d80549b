package io.rtbackup.schema.signing;

/** What checking a record's signature found. */
public sealed interface Verification {
    /** Signed by {@code principal} (the owner of key {@code keyId} in the keyring), and intact. */
    record Verified(String principal, String keyId) implements Verification {
    }

    /** Carries no signature, and signatures are not required (the upgrade hatch, or no keyring configured). */
    record Unverified() implements Verification {
    }

    /** Must not be used: why. */
    record Refused(RejectReason reason, String detail) implements Verification {
    }

    /** True when the record may be used as coming from {@code principal}: verified as it, or not verified at all. */
    default boolean admits(String principal) {
        return this instanceof Unverified || this instanceof Verified v && v.principal().equals(principal);
    }
}
