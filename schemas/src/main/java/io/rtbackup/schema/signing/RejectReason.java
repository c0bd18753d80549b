package io.rtbackup.schema.signing;

/** Why a record's signature was not accepted; {@link #label} is the metric label and the DLQ reason's tail. */
public enum RejectReason {
    /** No signature, while signatures are required. */
    UNSIGNED("unsigned"),
    /** Signed under a key id the keyring does not hold. */
    UNKNOWN_KEY("unknown-key"),
    /** The signature does not match the record (tampered, or moved to another topic or key). */
    BAD_SIGNATURE("bad-signature"),
    /** A signature header without its partner, or not decodable. */
    MALFORMED("malformed"),
    /** Verified, but signed by someone other than the one the record names (another host, a host for a worker). */
    WRONG_SIGNER("wrong-signer");

    private final String label;

    RejectReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
