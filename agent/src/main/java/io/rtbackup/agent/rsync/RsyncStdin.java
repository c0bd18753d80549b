package io.rtbackup.agent.rsync;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/** What an rsync process reads on its stdin; written raw (file names are bytes, not text), then stdin is closed. */
public sealed interface RsyncStdin {

    /** Nothing: stdin is closed at once. */
    RsyncStdin NONE = new Bytes(new byte[0]);

    /** Writes this input to the child's stdin (the caller closes it). */
    void writeTo(OutputStream out) throws IOException;

    /**
     * Root-relative paths for {@link RsyncArgs#filesFromStdin()}: each written as {@code ./<path>} and a NUL.
     * rsync skips {@code --files-from} entries starting with '#' or ';' as comments; the "./" keeps such names.
     * The byte arrays are not copied: the caller must not change them while the run lasts.
     */
    record FileList(List<byte[]> paths) implements RsyncStdin {
        private static final byte[] DOT_SLASH = {'.', '/'};

        public FileList {
            paths = List.copyOf(paths);
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            for (byte[] p : paths) {
                out.write(DOT_SLASH);
                out.write(p);
                out.write(0);
            }
        }
    }

    /** Bytes as they are (filter rules, or a file list the caller formatted itself). */
    record Bytes(byte[] bytes) implements RsyncStdin {
        public Bytes {
            bytes = bytes.clone();
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            out.write(bytes);
        }
    }
}
