/* SPDX-License-Identifier: GPL-2.0 */
/* rtbackup: declarations shared by the module's units (ring, roots, hook, device). */
#ifndef RTBACKUP_H
#define RTBACKUP_H

#include <linux/types.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include "rtbackup_uapi.h"

#define RTB_LOG_PREFIX "rtbackup: "

/* ---- ring (rtb_ring.c): bounded byte ring of whole records, many writers, one reader ---- */
int rtb_ring_init(u32 size_bytes);
void rtb_ring_free(void);
/* Queues one record or counts it as dropped; never sleeps. */
void rtb_ring_emit(u16 op, u32 flags, u64 ino, u32 dev,
		   const char *path, u32 path_len, const char *path2, u32 path2_len);
/* Counts an event that could not be turned into a record; it surfaces as an overflow record. */
void rtb_ring_drop(bool error);
void rtb_ring_count_filtered(void);
ssize_t rtb_ring_read(char __user *buf, size_t count, bool nonblock);
__poll_t rtb_ring_poll(struct file *file, poll_table *wait);
void rtb_ring_counters(struct rtb_counters *c);

/* ---- roots (rtb_roots.c): configured roots, op mask, and mapping kernel paths onto them ---- */
int rtb_roots_add(const char __user *upath, u32 len);
void rtb_roots_clear(void);
void rtb_roots_set_mask(u32 mask);
u32 rtb_roots_mask(void);
int rtb_roots_enable(void);
void rtb_roots_disable(void);
void rtb_roots_shutdown(void);
void rtb_roots_counters(struct rtb_counters *c);

/* ---- hook (rtb_hook.c): the fsnotify group and its superblock marks (the on/off switch) ---- */
struct rtb_sbmark;
int rtb_hook_init(void);			/* module load: per-CPU buffers */
void rtb_hook_exit(void);
int rtb_hook_install(void);			/* allocates the group; no marks yet */
void rtb_hook_remove(void);			/* destroys every mark, waits, frees the group */
struct rtb_sbmark *rtb_hook_mark_sb(struct super_block *sb);	/* existing or new mark */
void rtb_hook_unmark(struct rtb_sbmark *m);
/* unmarks every mark for which keep() says no */
void rtb_hook_gc(bool (*keep)(const struct rtb_sbmark *m, const void *ctx), const void *ctx);
struct super_block *rtb_mark_sb(const struct rtb_sbmark *m);
bool rtb_mark_dead(const struct rtb_sbmark *m);
u32 rtb_hook_marks(void);
void rtb_hook_set_modify_interval(unsigned int ms);

/*
 * Maps a path relative to the superblock root (as dentry_path_raw() gives it) onto the configured
 * roots. Writes the absolute path into out (RTB_PATH_MAX bytes) and returns its length, or -ENOENT
 * when no root covers it. rel2 (may be NULL) is the second name of a rename, mapped through the
 * same mount into out2; *len2 is set to 0 when it lies outside that mount.
 */
int rtb_roots_map(struct super_block *sb, const char *rel, u32 rel_len, char *out,
		  const char *rel2, u32 rel2_len, char *out2, int *len2);

#endif /* RTBACKUP_H */
