package io.rtbackup.agent.capture.kmod;

import java.util.Optional;

/** The {@code op} codes of {@code kmod/rtbackup_uapi.h} ({@code enum rtb_op}). */
public enum KmodOp {
    CREATE(1),
    MODIFY(2),
    CLOSE_WRITE(3),
    DELETE(4),
    RENAME(5),
    ATTRIB(6),
    MKDIR(7),
    RMDIR(8),
    LINK(9),
    SYMLINK(10),
    OVERFLOW(15);

    private final int code;

    KmodOp(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The bit of this op in the mask set with {@code RTB_IOC_SET_MASK}. */
    public int maskBit() {
        return 1 << code;
    }

    public static Optional<KmodOp> of(int code) {
        for (KmodOp op : values()) {
            if (op.code == code) return Optional.of(op);
        }
        return Optional.empty();
    }

    /** Every op the module can be asked for ({@code RTB_MASK_ALL}; OVERFLOW is always delivered). */
    public static int maskAll() {
        int mask = 0;
        for (KmodOp op : values()) {
            if (op != OVERFLOW) mask |= op.maskBit();
        }
        return mask;
    }
}
