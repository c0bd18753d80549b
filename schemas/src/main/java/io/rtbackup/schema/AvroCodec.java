package io.rtbackup.schema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one record type with Avro single-object encoding: {@code C3 01}, the writer schema's
 * 8-byte fingerprint, then the binary body. The fingerprint makes every record self-describing, so a reader
 * resolves it against the stored history and decodes what older (or newer, compatible) writers produced.
 *
 * <p>Thread-safe; create one per type and share it.
 */
public final class AvroCodec<T extends SpecificRecord> {
    static {
        // Avro 1.12 only instantiates classes from trusted packages when it resolves schemas to classes.
        TrustedPackages.install();
        DecodeLimits.install();
    }

    private final String name;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private AvroCodec(Schema current, String name) {
        this(current, name, SchemaHistory.versions(name));
    }

    /** With an explicit history; tests use it to stand in for versions that do not exist yet. */
    AvroCodec(Schema current, String name, List<Schema> history) {
        this.name = name;
        SpecificData model = new SpecificData(AvroCodec.class.getClassLoader());
        SchemaStore.Cache store = new SchemaStore.Cache();
        for (Schema version : history) store.addSchema(version);
        this.encoder = new BinaryMessageEncoder<>(model, current);
        this.decoder = new BinaryMessageDecoder<>(model, current, store);
        // The current schema may not be stored yet while a new version is being written; decode it anyway.
        this.decoder.addSchema(current);
    }

    public static AvroCodec<FileEvent> fileEvents() {
        return new AvroCodec<>(FileEvent.getClassSchema(), "FileEvent");
    }

    public static AvroCodec<SyncCommand> syncCommands() {
        return new AvroCodec<>(SyncCommand.getClassSchema(), "SyncCommand");
    }

    public static AvroCodec<SyncResult> syncResults() {
        return new AvroCodec<>(SyncResult.getClassSchema(), "SyncResult");
    }

    public static AvroCodec<WorkerStatus> workerStatus() {
        return new AvroCodec<>(WorkerStatus.getClassSchema(), "WorkerStatus");
    }

    public static AvroCodec<ControlCommand> controlCommands() {
        return new AvroCodec<>(ControlCommand.getClassSchema(), "ControlCommand");
    }

    public static AvroCodec<RootControlState> rootControlStates() {
        return new AvroCodec<>(RootControlState.getClassSchema(), "RootControlState");
    }

    /** The record name this codec handles, e.g. {@code FileEvent}. */
    public String schemaName() {
        return name;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buf = encoder.encode(record);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + name, e);
        }
    }

    /**
     * Decodes one record.
     *
     * @throws UndecodableRecordException for anything that is not a well-formed record of a known version
     */
    public T decode(byte[] bytes) {
        if (bytes == null) throw new UndecodableRecordException(name, "the record has no value (null)", null);
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new UndecodableRecordException(name, "unknown schema fingerprint (a writer newer than every stored "
                + "version, or a foreign record): " + e.getMessage(), e);
        } catch (BadHeaderException e) {
            throw new UndecodableRecordException(name, "not Avro single-object encoding (bad header)", e);
        } catch (IOException | RuntimeException e) {
            // Corrupt bodies surface as EOF, absurd lengths, invalid union/enum indexes or worse deep inside the
            // decoder; at this trust boundary every one of them means the same thing: the record is bad.
            throw new UndecodableRecordException(name, "corrupt body: " + e, e);
        }
    }
}
