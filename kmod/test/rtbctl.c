// SPDX-License-Identifier: GPL-2.0
/*
 * rtbctl: a small static tool for the qemu test guest (which only has busybox) and for operators:
 * drives /dev/rtbackup's ioctls, drains records to a file and performs the few file operations
 * busybox cannot (xattrs, a file written while held open, a timed create+write workload, the same
 * workload under a fanotify listener, the change-to-replica latency of a running agent).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "../rtbackup_uapi.h"

#define DEV "/dev/" RTB_DEVICE_NAME

static int open_dev(int flags)
{
	int fd = open(DEV, flags | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "rtbctl: open %s: %s\n", DEV, strerror(errno));
		exit(2);
	}
	return fd;
}

static void check(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "rtbctl: %s: %s\n", what, strerror(errno));
		exit(3);
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Appends every queued record to out; returns after the ring is empty. */
static int drain(const char *out)
{
	static char buf[1 << 16];
	int fd = open_dev(O_RDONLY | O_NONBLOCK);
	int ofd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	long records = 0, bytes = 0;

	check(ofd, out);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			break;
		check(n, "read");
		for (ssize_t off = 0; off < n; records++)
			off += ((struct rtb_record *)(buf + off))->size;
		check(write(ofd, buf, n) == n ? 0 : -1, "write");
		bytes += n;
	}
	close(ofd);
	close(fd);
	printf("drained %ld records, %ld bytes\n", records, bytes);
	return 0;
}

static int counters(void)
{
	struct rtb_counters c;
	int fd = open_dev(O_RDONLY);

	check(ioctl(fd, RTB_IOC_GET_COUNTERS, &c), "RTB_IOC_GET_COUNTERS");
	printf("delivered=%llu dropped=%llu overflows=%llu filtered=%llu errors=%llu ring_used=%llu "
	       "ring_size=%llu enabled=%u roots=%u marks=%u mask=0x%x\n",
	       (unsigned long long)c.delivered, (unsigned long long)c.dropped,
	       (unsigned long long)c.overflows, (unsigned long long)c.filtered,
	       (unsigned long long)c.errors, (unsigned long long)c.ring_used,
	       (unsigned long long)c.ring_size, c.enabled, c.roots, c.marks, c.mask);
	close(fd);
	return 0;
}

/* N files created and written (4 KiB each) in dir; returns the elapsed nanoseconds. */
static int64_t bench_files(const char *dir, long n)
{
	char path[4096], data[4096];
	int64_t t0 = now_ns();

	memset(data, 'b', sizeof(data));
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/bench-%ld", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		check(fd, path);
		check(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data) ? 0 : -1, "write");
		close(fd);
	}
	return now_ns() - t0;
}

static void bench_cleanup(const char *dir, long n)
{
	char path[4096];

	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/bench-%ld", dir, i);
		unlink(path);
	}
}

static void bench_report(const char *label, long n, int64_t dt)
{
	printf("BENCH %s files=%ld total_ms=%.1f per_file_us=%.1f\n", label, n, dt / 1e6, dt / 1e3 / n);
}

/* The bench workload; prints the elapsed time. */
static int bench(const char *dir, long n, const char *label)
{
	int64_t dt = bench_files(dir, n);

	bench_report(label, n, dt);
	bench_cleanup(dir, n);
	return 0;
}

/*
 * The bench workload while a fanotify group watches dir's whole file system the way the agent's fanotify
 * source does (FAN_MARK_FILESYSTEM, FAN_REPORT_DFID_NAME, the same event mask); the queued events are
 * read after the timed part, as the module's ring is in the other variant.
 */
static int fanotify_bench(const char *dir, long n, const char *label)
{
	static char buf[1 << 16];
	uint64_t mask = FAN_MODIFY | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_CREATE | FAN_DELETE | FAN_ONDIR | FAN_RENAME;
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			       O_RDONLY);
	long events = 0;

	check(fd, "fanotify_init");
	check(fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, dir), "fanotify_mark");
	int64_t dt = bench_files(dir, n);

	for (;;) {
		ssize_t len = read(fd, buf, sizeof(buf));

		if (len < 0 && errno == EAGAIN)
			break;
		check(len, "read fanotify");
		for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len))
			events++;
	}
	close(fd);
	bench_report(label, n, dt);
	printf("fanotify events read: %ld\n", events);
	bench_cleanup(dir, n);
	return 0;
}

/*
 * Change-to-replica latency of a running agent: n times, writes src/lat-I and waits until replica/lat-I has
 * the same size (replica is the destination's directory, seen read-only), timing with the monotonic clock.
 */
static int latency(const char *src, const char *replica, int n)
{
	char path[4096], copy[4096], data[64];

	for (int i = 0; i < n; i++) {
		int len = snprintf(data, sizeof(data), "latency probe %d\n", i);
		struct stat st;

		snprintf(path, sizeof(path), "%s/lat-%d", src, i);
		snprintf(copy, sizeof(copy), "%s/lat-%d", replica, i);
		int64_t t0 = now_ns();
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		check(fd, path);
		check(write(fd, data, len) == len ? 0 : -1, "write");
		close(fd);
		while (stat(copy, &st) < 0 || st.st_size != len) {
			if (now_ns() - t0 > 120LL * 1000000000LL) {
				printf("LATENCY probe=%d timeout\n", i);
				return 5;
			}
			usleep(20 * 1000);
		}
		printf("LATENCY probe=%d ms=%.0f\n", i, (now_ns() - t0) / 1e6);
		fflush(stdout);
		usleep(300 * 1000);
	}
	return 0;
}

/* Writes count times with a pause between writes, keeping the file open (a log-like writer). */
static int slowwrite(const char *path, int count, int pause_ms)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	check(fd, path);
	for (int i = 0; i < count; i++) {
		check(write(fd, "line\n", 5) == 5 ? 0 : -1, "write");
		if (i + 1 < count)
			usleep(pause_ms * 1000);
	}
	close(fd);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: rtbctl version | add-root PATH | clear-roots | mask HEX | enable | disable |\n"
		"              counters | drain OUTFILE | busy-check | setxattr PATH |\n"
		"              slowwrite PATH COUNT PAUSE_MS | bench DIR N LABEL |\n"
		"              fanotify-bench DIR N LABEL | latency SRCDIR REPLICADIR N\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int fd;

	if (!strcmp(cmd, "version")) {
		uint32_t v;

		fd = open_dev(O_RDONLY);
		check(ioctl(fd, RTB_IOC_GET_VERSION, &v), "RTB_IOC_GET_VERSION");
		printf("uapi version %u\n", v);
		return 0;
	}
	if (!strcmp(cmd, "add-root") && argc == 3) {
		struct rtb_root_arg ra = { .path_ptr = (uintptr_t)argv[2], .path_len = strlen(argv[2]) };

		fd = open_dev(O_RDONLY);
		check(ioctl(fd, RTB_IOC_ADD_ROOT, &ra), "RTB_IOC_ADD_ROOT");
		return 0;
	}
	if (!strcmp(cmd, "clear-roots")) {
		fd = open_dev(O_RDONLY);
		check(ioctl(fd, RTB_IOC_CLEAR_ROOTS), "RTB_IOC_CLEAR_ROOTS");
		return 0;
	}
	if (!strcmp(cmd, "mask") && argc == 3) {
		uint32_t m = strtoul(argv[2], NULL, 16);

		fd = open_dev(O_RDONLY);
		check(ioctl(fd, RTB_IOC_SET_MASK, &m), "RTB_IOC_SET_MASK");
		return 0;
	}
	if (!strcmp(cmd, "enable") || !strcmp(cmd, "disable")) {
		fd = open_dev(O_RDONLY);
		check(ioctl(fd, cmd[0] == 'e' ? RTB_IOC_ENABLE : RTB_IOC_DISABLE), cmd);
		return 0;
	}
	if (!strcmp(cmd, "counters"))
		return counters();
	if (!strcmp(cmd, "drain") && argc == 3)
		return drain(argv[2]);
	if (!strcmp(cmd, "busy-check")) {
		fd = open_dev(O_RDONLY);
		int second = open(DEV, O_RDONLY);
		int err = errno;

		printf("second open: %s\n", second < 0 ? (err == EBUSY ? "EBUSY" : strerror(err)) : "succeeded");
		return second < 0 && err == EBUSY ? 0 : 4;
	}
	if (!strcmp(cmd, "setxattr") && argc == 3) {
		check(setxattr(argv[2], "trusted.rtbackup", "1", 1, 0), "setxattr");
		return 0;
	}
	if (!strcmp(cmd, "slowwrite") && argc == 5)
		return slowwrite(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(cmd, "bench") && argc == 5)
		return bench(argv[2], atol(argv[3]), argv[4]);
	if (!strcmp(cmd, "fanotify-bench") && argc == 5)
		return fanotify_bench(argv[2], atol(argv[3]), argv[4]);
	if (!strcmp(cmd, "latency") && argc == 5)
		return latency(argv[2], argv[3], atoi(argv[4]));
	return usage();
}
