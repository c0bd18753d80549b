// SPDX-License-Identifier: GPL-2.0
/*
 * rtbackup: reports file changes on chosen file systems to one user-space reader through
 * /dev/rtbackup (read/poll for records, ioctl for roots, mask, the on/off switch and counters).
 * See kmod/README.md for why this uses fsnotify superblock marks.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/atomic.h>
#include "rtbackup.h"

static unsigned int ring_size = 1U << 20;
module_param(ring_size, uint, 0444);
MODULE_PARM_DESC(ring_size, "ring buffer size in bytes, rounded up to a power of two (default 1 MiB)");

static unsigned int modify_interval_ms = 1000;
module_param(modify_interval_ms, uint, 0444);
MODULE_PARM_DESC(modify_interval_ms, "least time between MODIFY records of a file kept open for writing");

static atomic_t reader_open = ATOMIC_INIT(0);

/*
 * /sys/module/rtbackup/parameters/status: the counters of RTB_IOC_GET_COUNTERS, read-only, for whoever
 * cannot open the device because its one reader (the agent) holds it.
 */
static int status_get(char *buf, const struct kernel_param *kp)
{
	struct rtb_counters c = {};

	rtb_ring_counters(&c);
	rtb_roots_counters(&c);
	return scnprintf(buf, PAGE_SIZE, "delivered=%llu dropped=%llu ring_used=%llu enabled=%u roots=%u marks=%u\n",
			 (unsigned long long)c.delivered, (unsigned long long)c.dropped,
			 (unsigned long long)c.ring_used, c.enabled, c.roots, c.marks);
}

static int status_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops status_ops = {
	.set = status_set,
	.get = status_get,
};
module_param_cb(status, &status_ops, NULL, 0444);
MODULE_PARM_DESC(status, "read-only: delivered, dropped, ring_used, enabled, roots, marks");

static int rtb_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* one reader: the ring has a single consumer position */
	if (atomic_cmpxchg(&reader_open, 0, 1))
		return -EBUSY;
	return nonseekable_open(inode, file);
}

static int rtb_release(struct inode *inode, struct file *file)
{
	/* the switch and roots stay as they are: a restarted agent gets an overflow, not a gap */
	atomic_set(&reader_open, 0);
	return 0;
}

static ssize_t rtb_read(struct file *file, char __user *buf, size_t count, loff_t *pos)
{
	return rtb_ring_read(buf, count, file->f_flags & O_NONBLOCK);
}

static __poll_t rtb_poll(struct file *file, poll_table *wait)
{
	return rtb_ring_poll(file, wait);
}

static long rtb_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case RTB_IOC_GET_VERSION: {
		__u32 v = RTB_UAPI_VERSION;

		return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case RTB_IOC_ADD_ROOT: {
		struct rtb_root_arg ra;

		if (copy_from_user(&ra, uarg, sizeof(ra)))
			return -EFAULT;
		if (ra.flags)
			return -EINVAL;
		return rtb_roots_add(u64_to_user_ptr(ra.path_ptr), ra.path_len);
	}
	case RTB_IOC_CLEAR_ROOTS:
		rtb_roots_clear();
		return 0;
	case RTB_IOC_SET_MASK: {
		__u32 mask;

		if (copy_from_user(&mask, uarg, sizeof(mask)))
			return -EFAULT;
		if (mask & ~RTB_MASK_ALL)
			return -EINVAL;
		rtb_roots_set_mask(mask);
		return 0;
	}
	case RTB_IOC_ENABLE:
		return rtb_roots_enable();
	case RTB_IOC_DISABLE:
		rtb_roots_disable();
		return 0;
	case RTB_IOC_GET_COUNTERS: {
		struct rtb_counters c = {};

		rtb_ring_counters(&c);
		rtb_roots_counters(&c);
		return copy_to_user(uarg, &c, sizeof(c)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations rtb_fops = {
	.owner = THIS_MODULE,
	.open = rtb_open,
	.release = rtb_release,
	.read = rtb_read,
	.poll = rtb_poll,
	.unlocked_ioctl = rtb_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice rtb_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = RTB_DEVICE_NAME,
	.fops = &rtb_fops,
	.mode = 0600,
};

static int __init rtb_init(void)
{
	int err = rtb_ring_init(ring_size);

	if (err)
		return err;
	err = rtb_hook_init();
	if (err) {
		rtb_ring_free();
		return err;
	}
	rtb_hook_set_modify_interval(modify_interval_ms);
	err = misc_register(&rtb_misc);
	if (err) {
		rtb_hook_exit();
		rtb_ring_free();
		return err;
	}
	pr_info(RTB_LOG_PREFIX "loaded, device /dev/%s, ring %u bytes, capture off\n",
		RTB_DEVICE_NAME, ring_size);
	return 0;
}

static void __exit rtb_exit(void)
{
	misc_deregister(&rtb_misc);
	rtb_roots_shutdown();
	rtb_hook_exit();
	rtb_ring_free();
	pr_info(RTB_LOG_PREFIX "unloaded\n");
}

module_init(rtb_init);
module_exit(rtb_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("rtbackup");
MODULE_DESCRIPTION("Reports file changes below chosen roots to user space (fsnotify superblock marks)");
MODULE_VERSION("0.1.0");
