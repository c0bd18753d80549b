// SPDX-License-Identifier: GPL-2.0
/*
 * rtbackup message building and the bounded ring.
 *
 * Writers (the fsnotify handler, on any CPU) serialise on a spinlock and only advance head; the single
 * reader only advances tail, so it copies to user space without holding the lock. Positions are free-
 * running byte counters; the buffer size is a power of two. When a record does not fit, the event is
 * counted; once space returns, one OVERFLOW record carrying the count goes in first, so user space knows
 * to rescan instead of silently missing changes.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/uaccess.h>
#include <linux/sched.h>
#include <linux/cred.h>
#include <linux/timekeeping.h>
#include <linux/log2.h>
#include <linux/atomic.h>
#include "rtbackup.h"

#define RTB_HDR_LEN ((u32)sizeof(struct rtb_record))
#define RTB_OVF_LEN ALIGN(RTB_HDR_LEN + 2, 8)

static struct {
	char *buf;
	u32 size;		/* power of two */
	u64 head;		/* bytes ever written; writers, under lock */
	u64 tail;		/* bytes ever consumed; the reader */
	u64 seq;		/* under lock */
	u64 pending_drop;	/* events lost since the last overflow record; under lock */
	spinlock_t lock;
	struct mutex read_mutex;
	wait_queue_head_t wq;
	atomic64_t delivered, dropped, overflows, filtered, errors;
} ring;

static_assert(sizeof(struct rtb_record) == 64, "record header is 64 bytes");

int rtb_ring_init(u32 size_bytes)
{
	if (size_bytes < 1024)
		size_bytes = 1024;
	if (size_bytes > (64U << 20))
		size_bytes = 64U << 20;
	ring.size = roundup_pow_of_two(size_bytes);
	ring.buf = vzalloc(ring.size);
	if (!ring.buf)
		return -ENOMEM;
	spin_lock_init(&ring.lock);
	mutex_init(&ring.read_mutex);
	init_waitqueue_head(&ring.wq);
	return 0;
}

void rtb_ring_free(void)
{
	vfree(ring.buf);
	ring.buf = NULL;
}

static void ring_put(u64 pos, const void *src, u32 len)
{
	u32 off = pos & (ring.size - 1);
	u32 first = min(len, ring.size - off);

	memcpy(ring.buf + off, src, first);
	if (len > first)
		memcpy(ring.buf, (const char *)src + first, len - first);
}

static void ring_zero(u64 pos, u32 len)
{
	u32 off = pos & (ring.size - 1);
	u32 first = min(len, ring.size - off);

	memset(ring.buf + off, 0, first);
	if (len > first)
		memset(ring.buf, 0, len - first);
}

static u32 record_len(u32 path_len, u32 path2_len)
{
	return ALIGN(RTB_HDR_LEN + path_len + 1 + path2_len + 1, 8);
}

/* Writes one record at head; the caller holds the lock and checked the space. */
static void ring_write_locked(struct rtb_record *hdr, const char *path, const char *path2)
{
	u64 pos = ring.head;
	u32 len = hdr->size;

	hdr->version = RTB_RECORD_VERSION;
	hdr->seq = ++ring.seq;
	ring_put(pos, hdr, RTB_HDR_LEN);
	pos += RTB_HDR_LEN;
	if (hdr->path_len)
		ring_put(pos, path, hdr->path_len);
	pos += hdr->path_len;
	ring_zero(pos, 1);
	pos += 1;
	if (hdr->path2_len)
		ring_put(pos, path2, hdr->path2_len);
	pos += hdr->path2_len;
	/* the second NUL and the padding */
	ring_zero(pos, ring.head + len - pos);
	/* publish the bytes before the new head */
	smp_store_release(&ring.head, ring.head + len);
	atomic64_inc(&ring.delivered);
}

static u64 ring_free_locked(void)
{
	return ring.size - (ring.head - smp_load_acquire(&ring.tail));
}

/* Queues the pending overflow record if there is room; the caller holds the lock. */
static bool flush_overflow_locked(u64 need_after)
{
	struct rtb_record hdr = {};

	if (!ring.pending_drop)
		return true;
	if (ring_free_locked() < RTB_OVF_LEN + need_after)
		return false;
	hdr.size = RTB_OVF_LEN;
	hdr.op = RTB_OP_OVERFLOW;
	hdr.time_ns = ktime_get_real_ns();
	hdr.dropped = ring.pending_drop;
	ring.pending_drop = 0;
	ring_write_locked(&hdr, NULL, NULL);
	atomic64_inc(&ring.overflows);
	return true;
}

void rtb_ring_emit(u16 op, u32 flags, u64 ino, u32 dev,
		   const char *path, u32 path_len, const char *path2, u32 path2_len)
{
	struct rtb_record hdr = {};
	u32 len = record_len(path_len, path2_len);

	hdr.size = len;
	hdr.op = op;
	hdr.flags = flags;
	hdr.ino = ino;
	hdr.dev = dev;
	hdr.pid = task_tgid_nr(current);
	hdr.uid = from_kuid(&init_user_ns, current_fsuid());
	hdr.path_len = path_len;
	hdr.path2_len = path2_len;
	hdr.time_ns = ktime_get_real_ns();

	spin_lock(&ring.lock);
	if (!flush_overflow_locked(len) || ring_free_locked() < len) {
		ring.pending_drop++;
		spin_unlock(&ring.lock);
		atomic64_inc(&ring.dropped);
		return;
	}
	ring_write_locked(&hdr, path, path2);
	spin_unlock(&ring.lock);
	wake_up_interruptible(&ring.wq);
}

void rtb_ring_drop(bool error)
{
	spin_lock(&ring.lock);
	ring.pending_drop++;
	spin_unlock(&ring.lock);
	atomic64_inc(&ring.dropped);
	if (error)
		atomic64_inc(&ring.errors);
	wake_up_interruptible(&ring.wq);
}

void rtb_ring_count_filtered(void)
{
	atomic64_inc(&ring.filtered);
}

static bool ring_readable(void)
{
	return smp_load_acquire(&ring.head) != READ_ONCE(ring.tail) || READ_ONCE(ring.pending_drop);
}

static void flush_overflow(void)
{
	bool queued;

	spin_lock(&ring.lock);
	queued = ring.pending_drop && flush_overflow_locked(0);
	spin_unlock(&ring.lock);
	if (queued)
		wake_up_interruptible(&ring.wq);
}

static int copy_out(char __user *dst, u64 pos, u32 len)
{
	u32 off = pos & (ring.size - 1);
	u32 first = min(len, ring.size - off);

	if (copy_to_user(dst, ring.buf + off, first))
		return -EFAULT;
	if (len > first && copy_to_user(dst + first, ring.buf, len - first))
		return -EFAULT;
	return 0;
}

ssize_t rtb_ring_read(char __user *buf, size_t count, bool nonblock)
{
	u64 head, tail;
	size_t done = 0;
	int err;

	if (mutex_lock_interruptible(&ring.read_mutex))
		return -ERESTARTSYS;
	for (;;) {
		flush_overflow();
		head = smp_load_acquire(&ring.head);
		if (head != ring.tail)
			break;
		mutex_unlock(&ring.read_mutex);
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(ring.wq, ring_readable());
		if (err)
			return err;
		if (mutex_lock_interruptible(&ring.read_mutex))
			return -ERESTARTSYS;
	}
	tail = ring.tail;
	while (tail != head) {
		u32 rlen;
		u32 off = tail & (ring.size - 1);

		/* size is the first field and records are 8-aligned, so it never wraps */
		memcpy(&rlen, ring.buf + off, sizeof(rlen));
		if (done + rlen > count)
			break;
		if (copy_out(buf + done, tail, rlen)) {
			if (!done) {
				mutex_unlock(&ring.read_mutex);
				return -EFAULT;
			}
			break;
		}
		done += rlen;
		tail += rlen;
	}
	smp_store_release(&ring.tail, tail);
	mutex_unlock(&ring.read_mutex);
	if (!done)
		return -EINVAL;	/* the buffer cannot hold the next record; RTB_READ_MIN always can */
	flush_overflow();
	return done;
}

__poll_t rtb_ring_poll(struct file *file, poll_table *wait)
{
	poll_wait(file, &ring.wq, wait);
	return ring_readable() ? (EPOLLIN | EPOLLRDNORM) : 0;
}

void rtb_ring_counters(struct rtb_counters *c)
{
	c->delivered = atomic64_read(&ring.delivered);
	c->dropped = atomic64_read(&ring.dropped);
	c->overflows = atomic64_read(&ring.overflows);
	c->filtered = atomic64_read(&ring.filtered);
	c->errors = atomic64_read(&ring.errors);
	c->ring_used = smp_load_acquire(&ring.head) - READ_ONCE(ring.tail);
	c->ring_size = ring.size;
}
