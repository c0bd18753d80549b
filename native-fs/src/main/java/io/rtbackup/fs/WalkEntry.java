package io.rtbackup.fs;

/** One entry found by {@link ByteFs#walk(byte[])}: its path relative to the walked root and its lstat. */
public record WalkEntry(byte[] relPath, Stat stat) {

    @Override
    public String toString() {
        return BytePaths.show(relPath) + " (" + stat.typeName() + ")";
    }
}
