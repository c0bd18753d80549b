package io.rtbackup.agent.capture.kmod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.schema.FileOp;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder against records built byte by byte after kmod/rtbackup_uapi.h. */
class KmodRecordDecoderTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final KmodRecordDecoder decoder = new KmodRecordDecoder(LE);

    /** struct rtb_record + path + NUL + path2 + NUL + zero padding to 8. */
    static byte[] record(int version, int op, int flags, long seq, long ino, long dropped, byte[] path, byte[] path2) {
        int size = (64 + path.length + 1 + path2.length + 1 + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(size).order(LE);
        b.putInt(size).putShort((short) version).putShort((short) op);
        b.putLong(seq).putLong(1_700_000_000_123_456_789L + seq).putLong(ino).putLong(dropped);
        b.putInt(0x0800_0001).putInt(flags).putInt(4242).putInt(1000);
        b.putShort((short) path.length).putShort((short) path2.length).putInt(0);
        b.put(path).put((byte) 0).put(path2).put((byte) 0);
        return b.array();
    }

    static byte[] record(int op, int flags, long seq, byte[] path, byte[] path2) {
        return record(1, op, flags, seq, 77, 0, path, path2);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void decodesEveryFieldOfAPlainRecord() {
        byte[] path = bytes("/srv/data/a.txt");
        List<KmodRecord> out = decoder.decode(record(1, KmodOp.CLOSE_WRITE.code(), 0, 5, 123, 0, path, new byte[0]));

        assertThat(out).hasSize(1);
        KmodRecord r = out.get(0);
        assertThat(r.op()).isEqualTo(KmodOp.CLOSE_WRITE);
        assertThat(r.directory()).isFalse();
        assertThat(r.seq()).isEqualTo(5);
        assertThat(r.timeNs()).isEqualTo(1_700_000_000_123_456_794L);
        assertThat(r.inode()).isEqualTo(123);
        assertThat(r.dev()).isEqualTo(0x0800_0001);
        assertThat(r.pid()).isEqualTo(4242);
        assertThat(r.uid()).isEqualTo(1000);
        assertThat(r.path()).isEqualTo(path);
        assertThat(r.path2()).isEmpty();
    }

    @Test
    void keepsHostileNameBytesExactly() {
        byte[] nl = bytes("/r/new\nline");
        byte[] high = concat(bytes("/r/high"), new byte[] {(byte) 0x80, (byte) 0xff, (byte) 0xfe});
        byte[] dash = bytes("/r/-dash");
        byte[] longName = concat(bytes("/r/"), bytes("x".repeat(255)));
        byte[] data = concat(record(KmodOp.CREATE.code(), 0, 1, nl, new byte[0]),
                record(KmodOp.CREATE.code(), 0, 2, high, new byte[0]),
                record(KmodOp.DELETE.code(), 0, 3, dash, new byte[0]),
                record(KmodOp.CREATE.code(), 0, 4, longName, new byte[0]));

        List<KmodRecord> out = decoder.decode(data);

        assertThat(out).extracting(KmodRecord::path).containsExactly(nl, high, dash, longName);
        assertThat(out).extracting(KmodRecord::seq).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void renameCarriesBothNamesAndBecomesARawRename() {
        byte[] from = bytes("/r/old");
        byte[] to = bytes("/r/sub/new name");
        KmodRecord r = decoder.decode(record(KmodOp.RENAME.code(), 1, 9, from, to)).get(0);

        assertThat(r.directory()).isTrue();
        RawChange change = KmodRecordDecoder.toRawChange(r);
        assertThat(change).isInstanceOf(RawChange.Rename.class);
        RawChange.Rename rename = (RawChange.Rename) change;
        assertThat(rename.from()).isEqualTo(from);
        assertThat(rename.to()).isEqualTo(to);
        assertThat(rename.directory()).isTrue();
    }

    @Test
    void renameWithOneSideOutsideTheMountBecomesARescanOfTheOther() {
        byte[] to = bytes("/r/arrived");
        KmodRecord r = decoder.decode(record(KmodOp.RENAME.code(), 0, 1, new byte[0], to)).get(0);

        assertThat(KmodRecordDecoder.toRawChange(r)).isInstanceOfSatisfying(RawChange.Rescan.class,
                s -> assertThat(s.path()).isEqualTo(to));
    }

    @Test
    void overflowBecomesARawOverflowForEveryRoot() {
        KmodRecord r = decoder.decode(record(1, KmodOp.OVERFLOW.code(), 0, 3, 0, 255, new byte[0], new byte[0])).get(0);

        assertThat(r.op()).isEqualTo(KmodOp.OVERFLOW);
        assertThat(r.dropped()).isEqualTo(255);
        assertThat(KmodRecordDecoder.toRawChange(r)).isInstanceOfSatisfying(RawChange.Overflow.class, o -> {
            assertThat(o.scope()).isNull();
            assertThat(o.dropped()).isEqualTo(255);
        });
    }

    @Test
    void mapsEachOpOntoTheFileOpOfTheCaptureApi() {
        byte[] p = bytes("/r/x");
        for (KmodOp op : List.of(KmodOp.CREATE, KmodOp.MODIFY, KmodOp.CLOSE_WRITE, KmodOp.DELETE, KmodOp.ATTRIB,
                KmodOp.MKDIR, KmodOp.RMDIR, KmodOp.LINK, KmodOp.SYMLINK)) {
            RawChange c = KmodRecordDecoder.toRawChange(decoder.decode(record(op.code(), 0, 1, p, new byte[0])).get(0));
            assertThat(c).isInstanceOfSatisfying(RawChange.PathChange.class, pc -> {
                assertThat(pc.op()).isEqualTo(FileOp.valueOf(op.name()));
                assertThat(pc.path()).isEqualTo(p);
                assertThat(pc.inode()).isEqualTo(77);
            });
        }
    }

    @Test
    void rejectsAnUnknownVersionNamingTheOffset() {
        byte[] data = concat(record(KmodOp.CREATE.code(), 0, 1, bytes("/a"), new byte[0]),
                record(2, KmodOp.CREATE.code(), 0, 2, 1, 0, bytes("/b"), new byte[0]));

        assertThatThrownBy(() -> decoder.decode(data)).isInstanceOf(KmodProtocolException.class)
                .hasMessageContaining("byte 72").hasMessageContaining("version 2");
    }

    @Test
    void rejectsTruncatedAndMalformedRecords() {
        byte[] good = record(KmodOp.CREATE.code(), 0, 1, bytes("/abc"), new byte[0]);

        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 8);
        assertThatThrownBy(() -> decoder.decode(truncated)).isInstanceOf(KmodProtocolException.class)
                .hasMessageContaining("size");

        byte[] shortHeader = java.util.Arrays.copyOf(good, 40);
        assertThatThrownBy(() -> decoder.decode(shortHeader)).hasMessageContaining("header");

        byte[] unaligned = good.clone();
        ByteBuffer.wrap(unaligned).order(LE).putInt(0, good.length - 4);
        assertThatThrownBy(() -> decoder.decode(unaligned)).hasMessageContaining("bad record size");

        byte[] overrun = good.clone();
        ByteBuffer.wrap(overrun).order(LE).putShort(56, (short) 200);
        assertThatThrownBy(() -> decoder.decode(overrun)).hasMessageContaining("overrun");

        byte[] noNul = good.clone();
        noNul[64 + 4] = 'x';
        assertThatThrownBy(() -> decoder.decode(noNul)).hasMessageContaining("NUL");

        byte[] badOp = good.clone();
        ByteBuffer.wrap(badOp).order(LE).putShort(6, (short) 12);
        assertThatThrownBy(() -> decoder.decode(badOp)).hasMessageContaining("unknown op 12");
    }

    @Test
    void decodesAWindowOfALargerBuffer() {
        byte[] a = record(KmodOp.MKDIR.code(), 1, 1, bytes("/r/d"), new byte[0]);
        byte[] b = record(KmodOp.SYMLINK.code(), 0, 2, bytes("/r/l"), new byte[0]);
        byte[] buf = concat(new byte[16], a, b, new byte[24]);

        List<KmodRecord> out = decoder.decode(buf, 16, a.length + b.length);

        assertThat(out).extracting(KmodRecord::op).containsExactly(KmodOp.MKDIR, KmodOp.SYMLINK);
    }

    @Test
    void maskBitsMatchTheHeader() {
        // RTB_MASK_ALL in rtbackup_uapi.h: bits 1..10
        assertThat(KmodOp.maskAll()).isEqualTo(0x7fe);
        assertThat(KmodDevice.IOC_GET_VERSION).isEqualTo(0x8004B800L);
        assertThat(KmodDevice.IOC_ADD_ROOT).isEqualTo(0x4010B801L);
        assertThat(KmodDevice.IOC_GET_COUNTERS).isEqualTo(0x8048B806L);
    }
}
