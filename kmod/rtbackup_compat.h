/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place where rtbackup depends on the kernel version: the fsnotify backend is internal API
 * and its signatures moved between 5.x and 6.x. Everything else in the module uses these wrappers.
 *
 * Verified by the qemu test (kmod/test) on both kernels Debian 12 ships: 6.1 and 6.12, the latter
 * taking the >= 6.11 branch (the object-pointer form of fsnotify_add_mark()). 5.17 is the floor
 * because FS_RENAME (old and new name in one event) and FSNOTIFY_EVENT_DENTRY appeared there;
 * without them a rename would arrive as two unpaired halves.
 */
#ifndef RTBACKUP_COMPAT_H
#define RTBACKUP_COMPAT_H

#include <linux/version.h>
#include <linux/fsnotify_backend.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#error "rtbackup needs Linux 5.17 or newer (FS_RENAME); use the agent's fanotify source on older kernels"
#endif

/* The handle_event callback: (group, mask, data, data_type, dir, name, cookie, iter_info) since 5.10. */
#define RTB_HANDLE_EVENT_PARAMS						\
	struct fsnotify_group *group, u32 mask, const void *data,	\
	int data_type, struct inode *dir, const struct qstr *file_name,	\
	u32 cookie, struct fsnotify_iter_info *iter_info

static inline struct fsnotify_group *rtb_alloc_group(const struct fsnotify_ops *ops)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
	return fsnotify_alloc_group(ops, 0);
#else
	return fsnotify_alloc_group(ops);
#endif
}

static inline int rtb_add_sb_mark(struct fsnotify_mark *mark, struct super_block *sb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return fsnotify_add_mark(mark, sb, FSNOTIFY_OBJ_TYPE_SB, 0);
#else
	return fsnotify_add_mark(mark, &sb->s_fsnotify_marks, FSNOTIFY_OBJ_TYPE_SB, 0, NULL);
#endif
}

#endif /* RTBACKUP_COMPAT_H */
