package io.rtbackup.schema;

/**
 * Caps the sizes Avro will allocate for a bytes/string/collection while decoding. A corrupt length prefix must
 * not make a 64 MiB agent try to allocate gigabytes; no legitimate message of ours comes near these sizes
 * (Kafka's own record limit is far below). Values an operator set as system properties win.
 */
final class DecodeLimits {
    static final String MAX_BYTES = "org.apache.avro.limits.bytes.maxLength";
    static final String MAX_STRING = "org.apache.avro.limits.string.maxLength";
    static final String MAX_ITEMS = "org.apache.avro.limits.collectionItems.maxLength";

    private DecodeLimits() {}

    static void install() {
        setIfAbsent(MAX_BYTES, String.valueOf(16 * 1024 * 1024));
        setIfAbsent(MAX_STRING, String.valueOf(16 * 1024 * 1024));
        setIfAbsent(MAX_ITEMS, String.valueOf(1_000_000));
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
