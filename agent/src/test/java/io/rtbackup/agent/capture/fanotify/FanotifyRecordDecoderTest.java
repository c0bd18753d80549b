package io.rtbackup.agent.capture.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Event;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Fid;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.FidType;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.FileHandle;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.Malformed;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.OtherInfo;
import io.rtbackup.agent.capture.fanotify.FanotifyRecord.QueueOverflow;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hand-built fanotify read buffers, laid out as linux/fanotify.h says; no kernel and no root needed. */
class FanotifyRecordDecoderTest {

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final long FSID = 0x1122334455667788L;
    private static final int HANDLE_TYPE = 0x81; // FILEID_INO32_GEN-like, as ext4 and tmpfs report
    private static final byte[] DIR_HANDLE = {1, 2, 3, 4, 5, 6, 7, 8};
    private static final byte[] OTHER_DIR_HANDLE = {9, 9, 9, 9, 0, 0, 0, 1};

    private final FanotifyRecordDecoder decoder = new FanotifyRecordDecoder(ORDER);

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** struct fanotify_event_metadata (version 3, fd FAN_NOFD) followed by the info records. */
    static byte[] event(long mask, byte[]... infos) {
        int infoLen = Arrays.stream(infos).mapToInt(i -> i.length).sum();
        return event(24 + infoLen, 24, mask, infos);
    }

    static byte[] event(int eventLen, int metaLen, long mask, byte[]... infos) {
        int infoLen = Arrays.stream(infos).mapToInt(i -> i.length).sum();
        ByteBuffer bb = ByteBuffer.allocate(24 + infoLen).order(ORDER);
        bb.putInt(eventLen).put((byte) 3).put((byte) 0).putShort((short) metaLen).putLong(mask).putInt(-1)
                .putInt(4242);
        for (byte[] i : infos) bb.put(i);
        return bb.array();
    }

    /** struct fanotify_event_info_fid: header, fsid, file_handle, then for named types the name and its NUL. */
    static byte[] fid(int type, byte[] handle, byte[] name) {
        int raw = 20 + handle.length + (name == null ? 0 : name.length + 1);
        int len = (raw + 3) & ~3; // the kernel pads each record to 4 bytes
        ByteBuffer bb = ByteBuffer.allocate(len).order(ORDER);
        bb.put((byte) type).put((byte) 0).putShort((short) len).putLong(FSID).putInt(handle.length)
                .putInt(HANDLE_TYPE).put(handle);
        if (name != null) bb.put(name);
        return bb.array();
    }

    static byte[] dfidName(byte[] name) {
        return fid(FanotifyLib.INFO_DFID_NAME, DIR_HANDLE, name);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private Event onlyEvent(byte[] data) {
        List<FanotifyRecord> got = decoder.decode(data);
        assertThat(got).hasSize(1).first().isInstanceOf(Event.class);
        return (Event) got.get(0);
    }

    private static Fid fidAt(Event e, int i) {
        assertThat(e.infos().get(i)).isInstanceOf(Fid.class);
        return (Fid) e.infos().get(i);
    }

    @Test
    void createModifyAndDeleteCarryTheDirectoryHandleAndTheName() {
        for (long mask : new long[] {FanotifyLib.FAN_CREATE, FanotifyLib.FAN_MODIFY | FanotifyLib.FAN_CLOSE_WRITE,
                FanotifyLib.FAN_DELETE | FanotifyLib.FAN_ONDIR}) {
            Event e = onlyEvent(event(mask, dfidName(b("file.txt"))));
            assertThat(e.mask()).isEqualTo(mask);
            assertThat(e.infos()).hasSize(1);
            Fid f = fidAt(e, 0);
            assertThat(f.type()).isEqualTo(FidType.DFID_NAME);
            assertThat(f.handle()).isEqualTo(new FileHandle(FSID, HANDLE_TYPE, DIR_HANDLE));
            assertThat(f.handle().fsid()).isEqualTo(FSID);
            assertThat(f.handle().handleType()).isEqualTo(HANDLE_TYPE);
            assertThat(f.handle().bytes()).isEqualTo(DIR_HANDLE);
            assertThat(f.name()).isEqualTo(b("file.txt"));
        }
    }

    @Test
    void aRenameCarriesTheOldAndTheNewNameInKernelOrder() {
        Event e = onlyEvent(event(FanotifyLib.FAN_RENAME | FanotifyLib.FAN_ONDIR,
                fid(FanotifyLib.INFO_OLD_DFID_NAME, DIR_HANDLE, b("old name")),
                fid(FanotifyLib.INFO_NEW_DFID_NAME, OTHER_DIR_HANDLE, b("new-name"))));
        assertThat(e.mask() & FanotifyLib.FAN_RENAME).isNotZero();
        assertThat(e.infos()).hasSize(2);
        assertThat(fidAt(e, 0).type()).isEqualTo(FidType.OLD_DFID_NAME);
        assertThat(fidAt(e, 0).name()).isEqualTo(b("old name"));
        assertThat(fidAt(e, 0).handle().bytes()).isEqualTo(DIR_HANDLE);
        assertThat(fidAt(e, 1).type()).isEqualTo(FidType.NEW_DFID_NAME);
        assertThat(fidAt(e, 1).name()).isEqualTo(b("new-name"));
        assertThat(fidAt(e, 1).handle().bytes()).isEqualTo(OTHER_DIR_HANDLE);
        assertThat(fidAt(e, 0).handle().key()).isNotEqualTo(fidAt(e, 1).handle().key());
    }

    @Test
    void beforeFanRenameAMoveIsAMovedFromAndAMovedToEvent() {
        List<FanotifyRecord> got = decoder.decode(concat(
                event(FanotifyLib.FAN_MOVED_FROM, dfidName(b("a"))),
                event(FanotifyLib.FAN_MOVED_TO, fid(FanotifyLib.INFO_DFID_NAME, OTHER_DIR_HANDLE, b("b")))));
        assertThat(got).hasSize(2).allMatch(r -> r instanceof Event);
        assertThat(((Event) got.get(0)).mask()).isEqualTo(FanotifyLib.FAN_MOVED_FROM);
        assertThat(fidAt((Event) got.get(0), 0).name()).isEqualTo(b("a"));
        assertThat(((Event) got.get(1)).mask()).isEqualTo(FanotifyLib.FAN_MOVED_TO);
        assertThat(fidAt((Event) got.get(1), 0).name()).isEqualTo(b("b"));
    }

    @Test
    void hostileNamesComeBackByteForByte() {
        byte[] high = new byte[128];
        for (int i = 0; i < high.length; i++) high[i] = (byte) (0x80 + i);
        byte[] longest = new byte[255];
        Arrays.fill(longest, (byte) 'x');
        longest[254] = (byte) 0xff;
        List<byte[]> names = List.of(b("line\nbreak"), b("-rf"), b("--help"), high, longest, b(" spaced "),
                b("back\\slash"), b("."));
        for (byte[] name : names) {
            Fid f = fidAt(onlyEvent(event(FanotifyLib.FAN_CREATE, dfidName(name))), 0);
            assertThat(f.name()).as(Arrays.toString(name)).isEqualTo(name);
        }
        // all of them in one read
        byte[][] events = names.stream().map(n -> event(FanotifyLib.FAN_CREATE, dfidName(n))).toArray(byte[][]::new);
        List<FanotifyRecord> got = decoder.decode(concat(events));
        assertThat(got).hasSize(names.size());
        for (int i = 0; i < names.size(); i++) assertThat(fidAt((Event) got.get(i), 0).name()).isEqualTo(names.get(i));
    }

    @Test
    void anEmptyNameAndTheUnnamedTypesDecodeWithAnEmptyName() {
        Event e = onlyEvent(event(FanotifyLib.FAN_ATTRIB | FanotifyLib.FAN_ONDIR, dfidName(new byte[0]),
                fid(FanotifyLib.INFO_DFID, DIR_HANDLE, null), fid(FanotifyLib.INFO_FID, OTHER_DIR_HANDLE, null)));
        assertThat(e.infos()).hasSize(3);
        assertThat(fidAt(e, 0).type()).isEqualTo(FidType.DFID_NAME);
        assertThat(fidAt(e, 0).name()).isEmpty();
        assertThat(fidAt(e, 1).type()).isEqualTo(FidType.DFID);
        assertThat(fidAt(e, 1).type().named()).isFalse();
        assertThat(fidAt(e, 1).name()).isEmpty();
        assertThat(fidAt(e, 2).type()).isEqualTo(FidType.FID);
        assertThat(fidAt(e, 2).handle().bytes()).isEqualTo(OTHER_DIR_HANDLE);
    }

    @Test
    void severalEventsInOneReadDecodeInOrder() {
        List<FanotifyRecord> got = decoder.decode(concat(
                event(FanotifyLib.FAN_CREATE, dfidName(b("one"))),
                event(FanotifyLib.FAN_MODIFY, dfidName(b("two"))),
                event(FanotifyLib.FAN_DELETE, dfidName(b("three")))));
        assertThat(got).hasSize(3);
        assertThat(got).extracting(r -> ((Event) r).mask())
                .containsExactly(FanotifyLib.FAN_CREATE, FanotifyLib.FAN_MODIFY, FanotifyLib.FAN_DELETE);
        assertThat(got).extracting(r -> new String(fidAt((Event) r, 0).name(), StandardCharsets.UTF_8))
                .containsExactly("one", "two", "three");
        // the same directory handle gives the same cache key in every event
        assertThat(fidAt((Event) got.get(0), 0).handle().key()).isEqualTo(fidAt((Event) got.get(2), 0).handle().key());
    }

    @Test
    void aQueueOverflowIsItsOwnRecordAndDecodingGoesOn() {
        List<FanotifyRecord> got = decoder.decode(concat(
                event(FanotifyLib.FAN_CREATE, dfidName(b("before"))),
                event(FanotifyLib.FAN_Q_OVERFLOW),
                event(FanotifyLib.FAN_CREATE, dfidName(b("after")))));
        assertThat(got).hasSize(3);
        assertThat(got.get(1)).isInstanceOf(QueueOverflow.class);
        assertThat(fidAt((Event) got.get(2), 0).name()).isEqualTo(b("after"));
        // the loss is reported even when the overflow event is otherwise wrong
        assertThat(decoder.decode(event(24, 0, FanotifyLib.FAN_Q_OVERFLOW))).containsExactly(new QueueOverflow());
    }

    @Test
    void aReadCutOffInsideAnEventReportsTheRestAsMalformed() {
        byte[] first = event(FanotifyLib.FAN_CREATE, dfidName(b("whole")));
        byte[] second = event(FanotifyLib.FAN_MODIFY, dfidName(b("cut-off")));
        byte[] both = concat(first, second);
        for (int cut : new int[] {first.length + 1, first.length + 23, first.length + 24, both.length - 1}) {
            List<FanotifyRecord> got = decoder.decode(Arrays.copyOf(both, cut));
            assertThat(got).as("cut at " + cut).hasSize(2);
            assertThat(fidAt((Event) got.get(0), 0).name()).isEqualTo(b("whole"));
            assertThat(got.get(1)).isInstanceOf(Malformed.class);
            Malformed m = (Malformed) got.get(1);
            assertThat(m.offset()).isEqualTo(first.length);
            assertThat(m.restSkipped()).isTrue();
        }
        assertThat(decoder.decode(new byte[0])).isEmpty();
    }

    @Test
    void anEventLengthBelowTheMetadataSizeStopsDecoding() {
        for (int len : new int[] {0, 4, 23, -1}) {
            byte[] bad = event(len, 24, FanotifyLib.FAN_CREATE, dfidName(b("x")));
            List<FanotifyRecord> got = decoder.decode(concat(bad, event(FanotifyLib.FAN_CREATE, dfidName(b("y")))));
            assertThat(got).as("event_len " + len).hasSize(1);
            Malformed m = (Malformed) got.get(0);
            assertThat(m.offset()).isZero();
            assertThat(m.restSkipped()).isTrue();
            assertThat(m.reason()).contains("event length");
        }
    }

    @Test
    void aBadMetadataLengthSkipsOnlyThatEvent() {
        byte[] info = dfidName(b("x"));
        for (int metaLen : new int[] {0, 8, 23, 24 + info.length + 1, 0xffff}) {
            byte[] bad = event(24 + info.length, metaLen, FanotifyLib.FAN_CREATE, info);
            List<FanotifyRecord> got = decoder.decode(concat(bad, event(FanotifyLib.FAN_DELETE, dfidName(b("y")))));
            assertThat(got).as("metadata_len " + metaLen).hasSize(2);
            Malformed m = (Malformed) got.get(0);
            assertThat(m.restSkipped()).isFalse();
            assertThat(m.reason()).contains("metadata length " + metaLen);
            assertThat(fidAt((Event) got.get(1), 0).name()).isEqualTo(b("y"));
        }
    }

    @Test
    void anUnknownInfoTypeIsKeptAsOtherAndSkipped() {
        byte[] unknown = ByteBuffer.allocate(12).order(ORDER).put((byte) 99).put((byte) 0).putShort((short) 12)
                .putLong(-1L).array();
        Event e = onlyEvent(event(FanotifyLib.FAN_CREATE, unknown, dfidName(b("after-unknown"))));
        assertThat(e.infos()).hasSize(2);
        assertThat(e.infos().get(0)).isEqualTo(new OtherInfo(99, 12));
        assertThat(fidAt(e, 1).name()).isEqualTo(b("after-unknown"));
    }

    @Test
    void badInfoRecordsMakeTheEventMalformed() {
        byte[] good = dfidName(b("name"));
        List<byte[]> bad = List.of(
                withShort(good, 2, 0),                      // length 0 would never advance
                withShort(good, 2, 3),                      // shorter than the info header
                withShort(good, 2, good.length + 4),        // runs past the event
                withShort(good, 2, 12),                     // a file id record without room for its handle header
                withInt(good, 12, 129),                     // handle larger than MAX_HANDLE_SZ
                withInt(good, 12, -8),                      // negative handle size
                withInt(good, 12, good.length));            // handle runs past the record
        for (byte[] info : bad) {
            List<FanotifyRecord> got = decoder.decode(concat(event(FanotifyLib.FAN_CREATE, info),
                    event(FanotifyLib.FAN_MODIFY, dfidName(b("next")))));
            assertThat(got).as(Arrays.toString(info)).hasSize(2);
            assertThat(got.get(0)).isInstanceOf(Malformed.class);
            assertThat(((Malformed) got.get(0)).restSkipped()).isFalse();
            assertThat(fidAt((Event) got.get(1), 0).name()).isEqualTo(b("next"));
        }
        // stray bytes between the last info record and the event's end
        byte[] stray = concat(good, new byte[] {2, 0});
        List<FanotifyRecord> got = decoder.decode(event(FanotifyLib.FAN_CREATE, stray));
        assertThat(got).singleElement().isInstanceOf(Malformed.class);
        assertThat(((Malformed) got.get(0)).reason()).contains("stray");
    }

    @Test
    void aNameWithoutItsNulEndsAtTheRecordEnd() {
        ByteBuffer bb = ByteBuffer.allocate(20 + DIR_HANDLE.length + 4).order(ORDER);
        bb.put((byte) FanotifyLib.INFO_DFID_NAME).put((byte) 0).putShort((short) bb.capacity()).putLong(FSID)
                .putInt(DIR_HANDLE.length).putInt(HANDLE_TYPE).put(DIR_HANDLE).put(b("abcd"));
        assertThat(fidAt(onlyEvent(event(FanotifyLib.FAN_CREATE, bb.array())), 0).name()).isEqualTo(b("abcd"));
    }

    @Test
    void offsetsAreRelativeToTheDecodedRange() {
        byte[] ev = event(FanotifyLib.FAN_CREATE, dfidName(b("in-range")));
        byte[] data = concat(new byte[] {7, 7, 7}, ev, ev, new byte[] {7});
        List<FanotifyRecord> got = decoder.decode(data, 3, ev.length * 2 - 5);
        assertThat(got).hasSize(2);
        assertThat(fidAt((Event) got.get(0), 0).name()).isEqualTo(b("in-range"));
        assertThat(((Malformed) got.get(1)).offset()).isEqualTo(ev.length);
    }

    @Test
    void noPrefixAndNoCorruptionOfAValidReadThrows() {
        byte[] valid = concat(
                event(FanotifyLib.FAN_CREATE, dfidName(b("a\nb"))),
                event(FanotifyLib.FAN_RENAME, fid(FanotifyLib.INFO_OLD_DFID_NAME, DIR_HANDLE, b("-old")),
                        fid(FanotifyLib.INFO_NEW_DFID_NAME, OTHER_DIR_HANDLE, b("new"))),
                event(FanotifyLib.FAN_Q_OVERFLOW),
                event(FanotifyLib.FAN_DELETE | FanotifyLib.FAN_ONDIR, dfidName(b("gone"))));
        for (int n = 0; n <= valid.length; n++) {
            List<FanotifyRecord> got = decoder.decode(valid, 0, n);
            if (n > 0 && n < valid.length) assertThat(got).isNotEmpty();
        }
        SplittableRandom random = new SplittableRandom(14);
        for (int round = 0; round < 20_000; round++) {
            byte[] corrupt = valid.clone();
            for (int k = random.nextInt(1, 4); k > 0; k--) {
                corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
            }
            List<FanotifyRecord> got = decoder.decode(corrupt);
            assertThat(got).isNotEmpty();
        }
    }

    private static byte[] withShort(byte[] record, int at, int value) {
        byte[] copy = record.clone();
        ByteBuffer.wrap(copy).order(ORDER).putShort(at, (short) value);
        return copy;
    }

    private static byte[] withInt(byte[] record, int at, int value) {
        byte[] copy = record.clone();
        ByteBuffer.wrap(copy).order(ORDER).putInt(at, value);
        return copy;
    }
}
