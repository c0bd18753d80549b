package io.rtbackup.bench.workload;

import io.rtbackup.bench.measure.ReplicaWatcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The steady-change workloads' tree: 1,000 small files in 10 directories, each holding "seq=0" at first. */
record SmallFiles(List<String> dirs, List<String> files) {
    private static final int DIRS = 10;
    private static final int FILES_PER_DIR = 100;

    static SmallFiles standard() {
        List<String> dirs = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (int d = 0; d < DIRS; d++) {
            dirs.add(String.format("d%02d", d));
            for (int f = 0; f < FILES_PER_DIR; f++) {
                files.add(String.format("d%02d/f%03d", d, f));
            }
        }
        return new SmallFiles(List.copyOf(dirs), List.copyOf(files));
    }

    void create(Path src) throws IOException {
        for (String d : dirs) {
            Files.createDirectories(src.resolve(d));
        }
        for (String f : files) {
            Files.write(src.resolve(f), ReplicaWatcher.content(0));
        }
    }

    /** The file the k-th change rewrites (round robin). */
    String fileFor(long k) {
        return files.get((int) (k % files.size()));
    }
}
