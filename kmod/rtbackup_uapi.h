/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rtbackup: the device protocol between rtbackup.ko and user space.
 *
 * This header is the single definition of the record layout and the ioctls. The agent's Java decoder
 * (io.rtbackup.agent.capture.kmod.KmodRecordDecoder) mirrors it; change both together and bump
 * RTB_RECORD_VERSION when the layout changes.
 *
 * read() on /dev/rtbackup returns one or more whole records. Each record starts with struct rtb_record
 * (64 bytes, host byte order), followed by the path bytes, a NUL, the second path's bytes (renames
 * only), a NUL, then zero padding so that the record size is a multiple of 8. Paths are raw bytes:
 * Linux names are not text, so no encoding is implied. A buffer smaller than the next record gets
 * -EINVAL; RTB_READ_MIN is always enough.
 */
#ifndef RTBACKUP_UAPI_H
#define RTBACKUP_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define RTB_UAPI_VERSION	1	/* returned by RTB_IOC_GET_VERSION */
#define RTB_RECORD_VERSION	1	/* rtb_record.version */
#define RTB_DEVICE_NAME		"rtbackup"
#define RTB_PATH_MAX		4096	/* longest path, NUL included (PATH_MAX) */
#define RTB_READ_MIN		(64 + 2 * RTB_PATH_MAX)
#define RTB_MAX_ROOTS		64

/* rtb_record.op */
enum rtb_op {
	RTB_OP_CREATE = 1,	/* regular file (or fifo/socket/device node) created */
	RTB_OP_MODIFY = 2,	/* written while still open; rate-limited per file */
	RTB_OP_CLOSE_WRITE = 3,	/* a writer closed a regular file */
	RTB_OP_DELETE = 4,	/* non-directory unlinked */
	RTB_OP_RENAME = 5,	/* path = old name, path2 = new name */
	RTB_OP_ATTRIB = 6,	/* chmod, chown, truncate, utimes, xattr change, link count change */
	RTB_OP_MKDIR = 7,
	RTB_OP_RMDIR = 8,
	RTB_OP_LINK = 9,	/* a new hard link (path = the new name) */
	RTB_OP_SYMLINK = 10,
	RTB_OP_OVERFLOW = 15,	/* events were lost: dropped says how many; path is empty */
};
#define RTB_OP_MAX 15

/* bit for each op in the mask set with RTB_IOC_SET_MASK (OVERFLOW is always delivered) */
#define RTB_MASK(op)		(1U << (op))
#define RTB_MASK_ALL		(RTB_MASK(RTB_OP_CREATE) | RTB_MASK(RTB_OP_MODIFY) | \
				 RTB_MASK(RTB_OP_CLOSE_WRITE) | RTB_MASK(RTB_OP_DELETE) | \
				 RTB_MASK(RTB_OP_RENAME) | RTB_MASK(RTB_OP_ATTRIB) | \
				 RTB_MASK(RTB_OP_MKDIR) | RTB_MASK(RTB_OP_RMDIR) | \
				 RTB_MASK(RTB_OP_LINK) | RTB_MASK(RTB_OP_SYMLINK))

/* rtb_record.flags */
#define RTB_F_DIR		0x1	/* the object is a directory */

struct rtb_record {
	__u32 size;		/*  0: whole record in bytes, multiple of 8 */
	__u16 version;		/*  4: RTB_RECORD_VERSION */
	__u16 op;		/*  6: enum rtb_op */
	__u64 seq;		/*  8: per-module sequence number, +1 per delivered record */
	__u64 time_ns;		/* 16: CLOCK_REALTIME when captured */
	__u64 ino;		/* 24: inode number of the object, 0 if unknown */
	__u64 dropped;		/* 32: OVERFLOW: events lost since the last record; else 0 */
	__u32 dev;		/* 40: st_dev of the file system (new_encode_dev) */
	__u32 flags;		/* 44: RTB_F_* */
	__u32 pid;		/* 48: thread group id of the caller */
	__u32 uid;		/* 52: fsuid of the caller, in the initial user namespace */
	__u16 path_len;		/* 56: bytes of the path, NUL excluded */
	__u16 path2_len;	/* 58: RENAME: bytes of the new path; else 0 */
	__u32 reserved;		/* 60: zero */
	/* 64: path, NUL, path2, NUL, zero padding */
};

/* RTB_IOC_ADD_ROOT: an absolute directory; events below it are reported. The module watches the
 * whole file system that holds it (a superblock mark) and filters by prefix. The path is resolved at
 * add time and again at each enable, in the caller's mount namespace. */
struct rtb_root_arg {
	__u64 path_ptr;		/* user pointer to the path bytes (no NUL needed) */
	__u32 path_len;		/* < RTB_PATH_MAX */
	__u32 flags;		/* zero */
};

struct rtb_counters {
	__u64 delivered;	/* records queued (overflow records included) */
	__u64 dropped;		/* events lost to a full ring or a path that could not be built */
	__u64 overflows;	/* overflow records queued */
	__u64 filtered;		/* events outside every root or masked out */
	__u64 errors;		/* events whose path could not be built (counted in dropped too) */
	__u64 ring_used;	/* bytes waiting in the ring */
	__u64 ring_size;	/* ring capacity in bytes */
	__u32 enabled;		/* 1 while the hook is installed */
	__u32 roots;		/* configured roots */
	__u32 marks;		/* file systems currently marked */
	__u32 mask;		/* current op mask */
};

#define RTB_IOC_MAGIC		0xB8
#define RTB_IOC_GET_VERSION	_IOR(RTB_IOC_MAGIC, 0, __u32)
#define RTB_IOC_ADD_ROOT	_IOW(RTB_IOC_MAGIC, 1, struct rtb_root_arg)
#define RTB_IOC_CLEAR_ROOTS	_IO(RTB_IOC_MAGIC, 2)
#define RTB_IOC_SET_MASK	_IOW(RTB_IOC_MAGIC, 3, __u32)
#define RTB_IOC_ENABLE		_IO(RTB_IOC_MAGIC, 4)
#define RTB_IOC_DISABLE		_IO(RTB_IOC_MAGIC, 5)
#define RTB_IOC_GET_COUNTERS	_IOR(RTB_IOC_MAGIC, 6, struct rtb_counters)

#endif /* RTBACKUP_UAPI_H */
