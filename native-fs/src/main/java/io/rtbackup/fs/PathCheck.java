package io.rtbackup.fs;

/**
 * Result of {@link ByteFs#openDirNoFollow(byte[], byte[])}: whether a relative path resolves to a directory
 * inside a root without passing through a symlink. The byte path carried by the failure cases is the relative
 * prefix up to and including the offending component.
 */
public sealed interface PathCheck {

    /** Human-readable explanation for logs and error results. */
    String describe();

    /** Every component is a real directory below the root. */
    record Inside() implements PathCheck {
        @Override
        public String describe() {
            return "inside the root through directories only";
        }
    }

    /** A component is a symlink; following it could leave the root. */
    record ThroughSymlink(byte[] component) implements PathCheck {
        @Override
        public boolean equals(Object o) {
            return o instanceof ThroughSymlink other && java.util.Arrays.equals(component, other.component);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(component);
        }

        @Override
        public String toString() {
            return "ThroughSymlink[" + BytePaths.show(component) + "]";
        }

        @Override
        public String describe() {
            return "'" + BytePaths.show(component) + "' is a symlink";
        }
    }

    /** A component does not exist (any more). */
    record Missing(byte[] component) implements PathCheck {
        @Override
        public boolean equals(Object o) {
            return o instanceof Missing other && java.util.Arrays.equals(component, other.component);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(component);
        }

        @Override
        public String toString() {
            return "Missing[" + BytePaths.show(component) + "]";
        }

        @Override
        public String describe() {
            return "'" + BytePaths.show(component) + "' does not exist";
        }
    }

    /** A component exists but is a file, fifo, device or socket. */
    record NotADirectory(byte[] component) implements PathCheck {
        @Override
        public boolean equals(Object o) {
            return o instanceof NotADirectory other && java.util.Arrays.equals(component, other.component);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(component);
        }

        @Override
        public String toString() {
            return "NotADirectory[" + BytePaths.show(component) + "]";
        }

        @Override
        public String describe() {
            return "'" + BytePaths.show(component) + "' is not a directory";
        }
    }

    /** The relative path itself is unacceptable: absolute, containing "..", or containing a NUL byte. */
    record Invalid(byte[] relPath, String reason) implements PathCheck {
        @Override
        public String describe() {
            return "'" + BytePaths.show(relPath) + "' is not a safe relative path: " + reason;
        }
    }
}
