package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Every stored version of a schema must read every other (backward and forward), so agents and workers of
 * different releases can share the topics during a rolling upgrade.
 */
class SchemaEvolutionTest {

    @ParameterizedTest
    @ValueSource(strings = {"FileEvent", "SyncCommand", "SyncResult", "WorkerStatus", "ControlCommand",
        "RootControlState"})
    void everyStoredVersionReadsEveryOther(String name) {
        List<Schema> versions = SchemaHistory.versions(name);
        for (Schema reader : versions) {
            for (Schema writer : versions) {
                var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
                assertThat(result.getType())
                    .as("%s: reader %s vs writer %s: %s", name, reader, writer, result.getDescription())
                    .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FileEvent", "SyncCommand", "SyncResult", "WorkerStatus", "ControlCommand",
        "RootControlState"})
    void theCompiledSchemaIsTheNewestStoredVersion(String name) throws Exception {
        Schema compiled = (Schema) Class.forName("io.rtbackup.schema." + name).getField("SCHEMA$").get(null);
        List<Schema> versions = SchemaHistory.versions(name);
        assertThat(versions.get(versions.size() - 1))
            .usingComparator((a, b) -> withoutJavaStringHints(a).equals(withoutJavaStringHints(b)) ? 0 : 1)
            .as("schemas/src/main/avro/%s.avsc changed: copy it to a new "
                + "schemas/src/main/resources/rtb-schema-history/%s/vN.avsc (never edit a stored version)", name, name)
            .isEqualTo(compiled);
    }

    /** The compiler adds {@code avro.java.string} hints; they do not change the wire format. */
    private static String withoutJavaStringHints(Schema schema) {
        return schema.toString().replace("{\"type\":\"string\",\"avro.java.string\":\"String\"}", "\"string\"");
    }

    @Test
    void theCheckCatchesABreakingChange() {
        // A new required field without a default cannot be read from old records: the check must say so.
        Schema breaking = SchemaBuilder.record("SyncResult").namespace("io.rtbackup.schema").fields()
            .requiredString("commandId").requiredString("newRequired").endRecord();
        var result = SchemaCompatibility.checkReaderWriterCompatibility(breaking, SyncResult.getClassSchema());
        assertThat(result.getType()).isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
    }

    @Test
    void unknownEnumSymbolsFromNewerWritersFallBackToSafeDefaults() {
        Schema newerOp = SchemaBuilder.enumeration("FileOp").namespace("io.rtbackup.schema")
            .defaultSymbol("RESCAN")
            .symbols("CREATE", "MODIFY", "CLOSE_WRITE", "DELETE", "MOVE_FROM", "MOVE_TO", "ATTRIB", "MKDIR",
                "RMDIR", "LINK", "SYMLINK", "RESCAN", "OVERFLOW", "FUTURE_OP");
        var result = SchemaCompatibility.checkReaderWriterCompatibility(FileOp.getClassSchema(), newerOp);
        assertThat(result.getType()).isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }
}
