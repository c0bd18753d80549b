package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class AvroCodecTest {
    private final AvroCodec<FileEvent> events = AvroCodec.fileEvents();

    static FileEvent event(byte[] path) {
        return FileEvent.newBuilder()
            .setHostId("host-1").setRootId("data").setPath(ByteBuffer.wrap(path))
            .setOp(FileOp.CLOSE_WRITE).setDirectory(false).setOtherPath(ByteBuffer.wrap(new byte[] {(byte) 0x80}))
            .setSource(CaptureSource.FANOTIFY).setSeq(42).setEventTimeNs(1_700_000_000_123_456_789L)
            .setSize(7L).setMtimeNs(null).setInode(99L).build();
    }

    @Test
    void fileEventsRoundTripHostilePathsByteForByte() {
        for (byte[] path : HostilePaths.all()) {
            FileEvent back = events.decode(events.encode(event(path)));
            assertThat(bytes(back.getPath())).isEqualTo(path);
            assertThat(back).isEqualTo(event(path));
        }
    }

    @Test
    void commandsAndResultsRoundTrip() {
        AvroCodec<SyncCommand> commands = AvroCodec.syncCommands();
        List<ByteBuffer> paths = new ArrayList<>();
        for (byte[] p : HostilePaths.all()) paths.add(ByteBuffer.wrap(p));
        SyncCommand cmd = SyncCommand.newBuilder().setCommandId("c-1").setHostId("h").setRootId("r")
            .setDestination("d1").setPaths(paths).setFullSync(false).setAttempt(2).setIssuedAtMs(5)
            .setCovers(List.of(new OffsetRange(3, 10L, 20L))).setReplyTo("w-1").setRemotePrefix(null)
            .setOldestEventTimeNs(1L).build();
        SyncCommand back = commands.decode(commands.encode(cmd));
        assertThat(back).isEqualTo(cmd);
        for (int i = 0; i < paths.size(); i++) {
            assertThat(bytes(back.getPaths().get(i))).isEqualTo(HostilePaths.all().get(i));
        }

        AvroCodec<SyncResult> results = AvroCodec.syncResults();
        SyncResult res = SyncResult.newBuilder().setCommandId("c-1").setHostId("h").setRootId("r")
            .setDestination("d1").setReplyTo("w-1").setOutcome(SyncOutcome.PARTIAL).setExitCode(23)
            .setFilesTransferred(3).setBytesSent(1000).setLiteralBytes(10).setDurationMs(12).setFinishedAtMs(13)
            .setError("rsync: some files vanished").build();
        assertThat(results.decode(results.encode(res))).isEqualTo(res);
    }

    @Test
    void workerStatusRoundTripsWithItsRecentSyncs() {
        AvroCodec<WorkerStatus> codec = AvroCodec.workerStatus();
        WorkerStatus st = WorkerStatus.newBuilder().setWorkerId("w-1").setDestination("d1").setPublishedAtMs(5)
            .setIntervalMs(1000).setBreakerState("OPEN").setPaused(true).setLastErrorMs(4).setLastError("no result")
            .setRecentSyncs(List.of(SyncSummary.newBuilder().setFinishedAtMs(3).setHostId("h").setRootId("r")
                .setCommandId("c-1").setPaths(1).setSamplePaths(List.of("a\\xff<b>")).setOutcome("RETRYING")
                .setError("connection refused").build()))
            .build();
        WorkerStatus back = codec.decode(codec.encode(st));
        assertThat(back).isEqualTo(st);
        assertThat(back.getRecentSyncs().get(0).getSamplePaths()).containsExactly("a\\xff<b>");
    }

    @Test
    void randomBytesFailWithTheDlqException() {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] garbage = new byte[random.nextInt(64)];
            random.nextBytes(garbage);
            assertThatThrownBy(() -> events.decode(garbage)).isInstanceOf(UndecodableRecordException.class);
        }
        assertThatThrownBy(() -> events.decode(null)).isInstanceOf(UndecodableRecordException.class);
    }

    @Test
    void corruptBodiesWithAValidHeaderFailCleanly() {
        byte[] good = events.encode(event(HostilePaths.utf8("a/b")));
        Random random = new Random(11);
        int failures = 0;
        for (int cut = 10; cut < good.length; cut++) {
            byte[] truncated = java.util.Arrays.copyOf(good, cut);
            assertThatThrownBy(() -> events.decode(truncated)).isInstanceOf(UndecodableRecordException.class);
        }
        for (int i = 0; i < 2000; i++) {
            byte[] flipped = good.clone();
            int at = 10 + random.nextInt(flipped.length - 10);
            flipped[at] = (byte) random.nextInt(256);
            try {
                events.decode(flipped);
            } catch (UndecodableRecordException expected) {
                failures++;
            }
            // Any other exception type escapes and fails the test: callers only catch ours.
        }
        assertThat(failures).as("some flips must be detected").isPositive();
    }

    @Test
    void aRecordOfAnUnknownFingerprintIsNamedAsSuch() {
        Schema foreign = SchemaBuilder.record("Foreign").namespace("elsewhere").fields()
            .requiredString("x").endRecord();
        GenericRecord rec = new GenericData.Record(foreign);
        rec.put("x", "hello");
        byte[] bytes = encodeGeneric(foreign, rec);
        assertThatThrownBy(() -> events.decode(bytes))
            .isInstanceOf(UndecodableRecordException.class)
            .hasMessageContaining("unknown schema fingerprint");
    }

    @Test
    void aRecordWrittenWithAnOlderStoredVersionDecodesWithDefaults() {
        // An older FileEvent without the optional stat fields, as an earlier agent would have written it.
        Schema older = SchemaBuilder.record("FileEvent").namespace("io.rtbackup.schema").fields()
            .requiredString("hostId").requiredString("rootId").requiredBytes("path")
            .name("op").type(FileOp.getClassSchema()).noDefault()
            .name("directory").type().booleanType().booleanDefault(false)
            .name("otherPath").type().optional().bytesType()
            .name("source").type(io.rtbackup.schema.CaptureSource.getClassSchema()).noDefault()
            .requiredLong("seq").requiredLong("eventTimeNs").endRecord();
        GenericRecord rec = new GenericData.Record(older);
        rec.put("hostId", "h");
        rec.put("rootId", "r");
        rec.put("path", ByteBuffer.wrap(new byte[] {(byte) 0xfe, '\n'}));
        rec.put("op", new GenericData.EnumSymbol(FileOp.getClassSchema(), "DELETE"));
        rec.put("directory", true);
        rec.put("otherPath", null);
        rec.put("source", new GenericData.EnumSymbol(io.rtbackup.schema.CaptureSource.getClassSchema(), "INOTIFY"));
        rec.put("seq", 3L);
        rec.put("eventTimeNs", 4L);
        byte[] written = encodeGeneric(older, rec);

        List<Schema> history = new ArrayList<>(List.of(older));
        history.addAll(SchemaHistory.versions("FileEvent"));
        AvroCodec<FileEvent> reader = new AvroCodec<>(FileEvent.getClassSchema(), "FileEvent", history);
        FileEvent back = reader.decode(written);
        assertThat(bytes(back.getPath())).containsExactly((byte) 0xfe, (byte) '\n');
        assertThat(back.getOp()).isEqualTo(FileOp.DELETE);
        assertThat(back.getSize()).isNull();
        assertThat(back.getInode()).isNull();
        // Without that version stored, the same bytes are refused, not misread.
        assertThatThrownBy(() -> events.decode(written)).isInstanceOf(UndecodableRecordException.class);
    }

    @Test
    void eventsAndResultsOfAgentsWithoutCapturePositionsReadAsUnknownPositions() {
        // FileEvent v1 and SyncResult v2, as stored, written by agents that ordered by wall clock.
        Schema eventV1 = SchemaHistory.versions("FileEvent").get(0);
        GenericRecord ev = new GenericData.Record(eventV1);
        ev.put("hostId", "h");
        ev.put("rootId", "r");
        ev.put("path", ByteBuffer.wrap(new byte[] {'a'}));
        ev.put("op", new GenericData.EnumSymbol(FileOp.getClassSchema(), "MODIFY"));
        ev.put("directory", false);
        ev.put("source", new GenericData.EnumSymbol(io.rtbackup.schema.CaptureSource.getClassSchema(), "SCAN"));
        ev.put("seq", 1_700_000_000_000_000L);
        ev.put("eventTimeNs", 4L);
        FileEvent back = events.decode(encodeGeneric(eventV1, ev));
        assertThat(back.getIncarnation()).isZero();
        assertThat(CapturePosition.of(back)).isEqualTo(CapturePosition.UNKNOWN);

        Schema resultV2 = SchemaHistory.versions("SyncResult").get(1);
        GenericRecord res = new GenericData.Record(resultV2);
        res.put("commandId", "c");
        res.put("hostId", "h");
        res.put("rootId", "r");
        res.put("destination", "d");
        res.put("replyTo", "w");
        res.put("outcome", new GenericData.EnumSymbol(SyncOutcome.getClassSchema(), "OK"));
        res.put("exitCode", 0);
        res.put("filesTransferred", 1L);
        res.put("bytesSent", 1L);
        res.put("literalBytes", 1L);
        res.put("durationMs", 1L);
        res.put("finishedAtMs", 2L);
        res.put("error", null);
        res.put("startedAtMs", 1_700_000_000_000L);
        SyncResult r = AvroCodec.syncResults().decode(encodeGeneric(resultV2, res));
        assertThat(r.getIncarnation()).isZero();
        assertThat(r.getPublishedSeq()).isZero();
        assertThat(CapturePosition.of(r).covers(new CapturePosition(1, 1))).isFalse();
    }

    private static byte[] encodeGeneric(Schema schema, GenericRecord rec) {
        try {
            ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(rec);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
