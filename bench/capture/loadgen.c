/*
 * Load generator for `bench/run capture` (CaptureBenchmark): file operations under one root, in its own process
 * so that it can be pinned to another core than the capture it loads (taskset -c 1).
 *
 *   loadgen ROOT FILES DIRS RATE MANIFEST
 *
 * ROOT holds directories d0 .. d(DIRS-1), made beforehand. The files go through in batches of 1000 (so at most
 * 1000 exist at once, whatever FILES is): each file i is written new (d(i%DIRS)/f<i>: create, write 100 bytes,
 * close), then appended to (open, write 100 bytes, close), renamed to d((i+1)%DIRS)/g<i>, and deleted. Counted as
 * the changes a capture reports for them: write 3 (create, modify, close-write), append 2 (modify, close-write),
 * rename 2 (moved-from, moved-to), delete 1: 8 events per file.
 *
 * RATE is events per second (0: as fast as it goes). MANIFEST gets one line per operation that succeeded
 * ("W path", "A path", "R from to", "D path"), so a reader can check every one of them was published; it should
 * lie on another filesystem than ROOT. On exit prints one line:
 *   loadgen files=N ops=N events=N start_ns=N end_ns=N seconds=S events_per_s=R
 * with CLOCK_REALTIME nanoseconds. Exits non-zero, naming the path and errno, when an operation fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000
#define EVENTS_PER_FILE 8

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(const char *what, const char *path) {
    fprintf(stderr, "loadgen: %s %s failed: %s (errno %d)\n", what, path, strerror(errno), errno);
    exit(1);
}

static const char *root;
static int dirs;
static double rate;
static long long t0_mono;
static long long events;
static FILE *manifest;
static char data[100];

static void path(char *out, size_t n, int dir, char prefix, long i) {
    snprintf(out, n, "%s/d%d/%c%ld", root, dir, prefix, i);
}

/* Holds the pace: after `events`, sleeps until the time they are due at RATE. */
static void pace(void) {
    static unsigned calls;
    if (rate <= 0 || (++calls & 15) != 0) return;
    long long due = t0_mono + (long long)(events / rate * 1e9);
    long long wait = due - now_ns(CLOCK_MONOTONIC);
    if (wait > 0) {
        struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
        nanosleep(&ts, NULL);
    }
}

static void write_file(const char *p, int flags) {
    int fd = open(p, flags, 0644);
    if (fd < 0) fail("open", p);
    if (write(fd, data, sizeof data) != (ssize_t)sizeof data) fail("write", p);
    if (close(fd) != 0) fail("close", p);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: loadgen ROOT FILES DIRS RATE MANIFEST\n");
        return 2;
    }
    root = argv[1];
    long files = atol(argv[2]);
    dirs = atoi(argv[3]);
    rate = atof(argv[4]);
    manifest = fopen(argv[5], "w");
    if (files <= 0 || dirs <= 0) {
        fprintf(stderr, "loadgen: FILES and DIRS must be positive\n");
        return 2;
    }
    if (!manifest) fail("fopen", argv[5]);
    static char buf[1 << 20];
    setvbuf(manifest, buf, _IOFBF, sizeof buf);
    memset(data, 'x', sizeof data);
    char a[4096], b[4096];
    long long start = now_ns(CLOCK_REALTIME);
    t0_mono = now_ns(CLOCK_MONOTONIC);
    long ops = 0;
    for (long first = 0; first < files; first += BATCH) {
        long last = first + BATCH < files ? first + BATCH : files;
        for (long i = first; i < last; i++) {
            path(a, sizeof a, (int)(i % dirs), 'f', i);
            write_file(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
            fprintf(manifest, "W %s\n", a);
            events += 3;
            ops++;
            pace();
        }
        for (long i = first; i < last; i++) {
            path(a, sizeof a, (int)(i % dirs), 'f', i);
            write_file(a, O_WRONLY | O_APPEND | O_CLOEXEC);
            fprintf(manifest, "A %s\n", a);
            events += 2;
            ops++;
            pace();
        }
        for (long i = first; i < last; i++) {
            path(a, sizeof a, (int)(i % dirs), 'f', i);
            path(b, sizeof b, (int)((i + 1) % dirs), 'g', i);
            if (rename(a, b) != 0) fail("rename", a);
            fprintf(manifest, "R %s %s\n", a, b);
            events += 2;
            ops++;
            pace();
        }
        for (long i = first; i < last; i++) {
            path(b, sizeof b, (int)((i + 1) % dirs), 'g', i);
            if (unlink(b) != 0) fail("unlink", b);
            fprintf(manifest, "D %s\n", b);
            events += 1;
            ops++;
            pace();
        }
    }
    long long end = now_ns(CLOCK_REALTIME);
    if (fclose(manifest) != 0) fail("fclose", argv[5]);
    double secs = (end - start) / 1e9;
    printf("loadgen files=%ld ops=%ld events=%lld start_ns=%lld end_ns=%lld seconds=%.3f events_per_s=%.0f\n",
           files, ops, events, start, end, secs, events / secs);
    return 0;
}
