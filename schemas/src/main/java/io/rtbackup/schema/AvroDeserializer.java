package io.rtbackup.schema;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer for single-object encoded Avro records. Throws {@link UndecodableRecordException} for a
 * bad record; the consumer surfaces it as a {@code RecordDeserializationException} carrying partition and offset,
 * so the caller can seek past it. Our own loops consume {@code byte[]} and call {@link AvroCodec#decode} instead,
 * which keeps the raw bytes at hand for the DLQ.
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    private final AvroCodec<T> codec;

    public AvroDeserializer(AvroCodec<T> codec) {
        this.codec = codec;
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : codec.decode(data);
    }
}
