package io.rtbackup.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Every published version of a record schema, oldest first, read from {@code rtb-schema-history/<Name>/vN.avsc}.
 *
 * <p>A running fleet mixes versions: a reader must decode what any earlier (and later, within the compatibility
 * rules) writer produced. Single-object encoding carries the writer schema's fingerprint, so the decoder needs
 * every version to resolve it; a version is therefore never edited once published, only added.
 */
public final class SchemaHistory {
    private static final String BASE = "/rtb-schema-history/";

    private SchemaHistory() {}

    /** All stored versions of the record named {@code name}, v1 first. */
    public static List<Schema> versions(String name) {
        List<Schema> out = new ArrayList<>();
        for (int v = 1; ; v++) {
            String resource = BASE + name + "/v" + v + ".avsc";
            try (InputStream in = SchemaHistory.class.getResourceAsStream(resource)) {
                if (in == null) break;
                out.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read schema version " + resource, e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no stored versions for schema " + name + " under " + BASE + name);
        }
        return List.copyOf(out);
    }
}
