// SPDX-License-Identifier: GPL-2.0
/*
 * rtbackup hook: an fsnotify group whose superblock marks see every create, delete, rename, write,
 * close-after-write and attribute change on a watched file system, with the directory and name.
 * Installing the hook means allocating the group and marking the file systems; removing it destroys
 * the marks, waits until fsnotify has released them and frees the group, so nothing of ours is called
 * any more (the "off" position of the switch).
 *
 * The handler runs in the context of the process doing the file operation, inside an SRCU read
 * section. It allocates nothing: names are built in a per-CPU buffer with preemption off, so it never
 * sleeps while building a record and cannot fail for lack of memory.
 */
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/dcache.h>
#include <linux/namei.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>
#include <linux/kdev_t.h>
#include "rtbackup.h"
#include "rtbackup_compat.h"

/* What the marks subscribe to; FS_EVENT_ON_CHILD asks fsnotify for the parent and name of files. */
#define RTB_FS_MASK (FS_CREATE | FS_DELETE | FS_RENAME | FS_MODIFY | FS_ATTRIB | \
		     FS_CLOSE_WRITE | FS_EVENT_ON_CHILD)

struct rtb_sbmark {
	struct fsnotify_mark fsn;
	struct list_head node;		/* in marks, under the roots mutex (callers serialise) */
	struct super_block *sb;		/* compared only, never dereferenced after the mark dies */
	bool dead;			/* the file system went away (unmounted) */
};

static struct fsnotify_group *group;
static LIST_HEAD(marks);
static u32 nmarks;

/* ---- MODIFY rate limiting: a small direct-mapped table keyed by inode address ---- */
#define RTB_MOD_BITS 8
static struct {
	const void *inode;
	unsigned long since;
} modtab[1 << RTB_MOD_BITS];
static DEFINE_SPINLOCK(modtab_lock);
static unsigned long modify_interval = HZ;

void rtb_hook_set_modify_interval(unsigned int ms)
{
	modify_interval = msecs_to_jiffies(ms ? ms : 1);
}

/*
 * A write is reported by CLOSE_WRITE. MODIFY is only reported for a file that keeps being written for
 * longer than the interval (a log, a database), and then at most once per interval.
 */
static bool modify_due(const struct inode *inode)
{
	u32 h = hash_ptr(inode, RTB_MOD_BITS);
	unsigned long now = jiffies;
	bool due = false;

	spin_lock(&modtab_lock);
	if (modtab[h].inode != inode) {
		modtab[h].inode = inode;
		modtab[h].since = now;
	} else if (time_after_eq(now, modtab[h].since + modify_interval)) {
		modtab[h].since = now;
		due = true;
	}
	spin_unlock(&modtab_lock);
	return due;
}

static void modify_forget(const struct inode *inode)
{
	u32 h = hash_ptr(inode, RTB_MOD_BITS);

	spin_lock(&modtab_lock);
	if (modtab[h].inode == inode)
		modtab[h].inode = NULL;
	spin_unlock(&modtab_lock);
}

/* ---- event classification and message building ---- */

static u16 classify(u32 mask, int data_type, const struct inode *inode, const struct qstr *name)
{
	bool isdir = mask & FS_ISDIR;

	if (mask & FS_RENAME)
		return RTB_OP_RENAME;
	if (mask & FS_CREATE) {
		if (isdir)
			return RTB_OP_MKDIR;
		if (inode && S_ISLNK(inode->i_mode))
			return RTB_OP_SYMLINK;
		if (inode && inode->i_nlink > 1)
			return RTB_OP_LINK;
		return RTB_OP_CREATE;
	}
	if (mask & FS_DELETE)
		return isdir ? RTB_OP_RMDIR : RTB_OP_DELETE;
	if (mask & FS_CLOSE_WRITE)
		/* a watched tty or pipe would feed our own reads back to us */
		return inode && S_ISREG(inode->i_mode) ? RTB_OP_CLOSE_WRITE : 0;
	if (mask & FS_ATTRIB) {
		/* the link-count change that accompanies the unlink of the last name: DELETE covers it */
		if (!name && inode && !S_ISDIR(inode->i_mode) && inode->i_nlink == 0)
			return 0;
		return RTB_OP_ATTRIB;
	}
	if (mask & FS_MODIFY) {
		/* write() reports a path; truncate()/utimes() (setattr) report the inode */
		if (data_type != FSNOTIFY_EVENT_PATH)
			return RTB_OP_ATTRIB;
		return inode && S_ISREG(inode->i_mode) ? RTB_OP_MODIFY : 0;
	}
	return 0;
}

/* The path of dentry relative to its superblock root, copied to the start of buf. */
static int dentry_rel(struct dentry *dentry, char *buf)
{
	char *p = dentry_path_raw(dentry, buf, RTB_PATH_MAX);
	int len;

	if (IS_ERR(p))
		return PTR_ERR(p);
	len = strlen(p);
	memmove(buf, p, len + 1);
	return len;
}

/* "<path of dir>/<name>" relative to the superblock root. */
static int dir_name_rel(struct dentry *dir, const struct qstr *name, char *buf)
{
	int len = dentry_rel(dir, buf);

	if (len < 0)
		return len;
	if (len == 1)
		len = 0;	/* the root: "/" + name, not "//" + name */
	if (len + 1 + name->len >= RTB_PATH_MAX)
		return -ENAMETOOLONG;
	buf[len] = '/';
	memcpy(buf + len + 1, name->name, name->len);
	len += 1 + name->len;
	buf[len] = '\0';
	return len;
}

/* Per-CPU room to build names in: the handler allocates nothing and never sleeps while building. */
struct rtb_scratch {
	char rel[RTB_PATH_MAX];
	char abs[RTB_PATH_MAX];
	char rel2[RTB_PATH_MAX];
	char abs2[RTB_PATH_MAX];
};
static struct rtb_scratch __percpu *scratch;

int rtb_hook_init(void)
{
	scratch = alloc_percpu(struct rtb_scratch);
	return scratch ? 0 : -ENOMEM;
}

void rtb_hook_exit(void)
{
	free_percpu(scratch);
}

static int rtb_handle_event(RTB_HANDLE_EVENT_PARAMS)
{
	struct inode *inode = fsnotify_data_inode(data, data_type);
	struct super_block *sb = dir ? dir->i_sb : (inode ? inode->i_sb : NULL);
	u32 flags = (mask & FS_ISDIR) ? RTB_F_DIR : 0;
	struct dentry *alias = NULL;	/* a reference we hold (dir's or the object's dentry) */
	struct dentry *object = NULL;	/* the caller's dentry, valid for the call */
	struct rtb_scratch *s;
	int rel_len, rel2_len = 0, abs_len, abs2_len = 0;
	u16 op;

	op = classify(mask, data_type, inode, file_name);
	if (!op || !sb)
		return 0;
	if (!(rtb_roots_mask() & RTB_MASK(op))) {
		rtb_ring_count_filtered();
		return 0;
	}
	if (op == RTB_OP_CLOSE_WRITE)
		modify_forget(inode);
	else if (op == RTB_OP_MODIFY && !modify_due(inode))
		return 0;

	/* take dentry references first: dput() may sleep, so it must stay outside the per-CPU section */
	if (op == RTB_OP_RENAME) {
		object = fsnotify_data_dentry(data, data_type);
		if (!object || !dir || !file_name)
			goto lost;
		inode = d_inode(object);
		alias = d_find_alias(dir);
		if (!alias)
			goto lost;
	} else if (dir && file_name) {
		alias = d_find_alias(dir);
		if (!alias)
			goto lost;
	} else if (data_type == FSNOTIFY_EVENT_PATH || data_type == FSNOTIFY_EVENT_DENTRY) {
		object = fsnotify_data_dentry(data, data_type);
	} else if (inode) {
		alias = d_find_alias(inode);
	}
	if (!alias && !object)
		goto lost;

	s = get_cpu_ptr(scratch);
	if (op == RTB_OP_RENAME) {
		rel_len = dir_name_rel(alias, file_name, s->rel);
		rel2_len = dentry_rel(object, s->rel2);
	} else if (dir && file_name) {
		rel_len = dir_name_rel(alias, file_name, s->rel);
	} else {
		rel_len = dentry_rel(object ? object : alias, s->rel);
	}
	if (rel_len < 0 || rel2_len < 0) {
		put_cpu_ptr(scratch);
		goto lost;
	}
	abs_len = rtb_roots_map(sb, s->rel, rel_len, s->abs,
				op == RTB_OP_RENAME ? s->rel2 : NULL, rel2_len, s->abs2, &abs2_len);
	if (abs_len >= 0)
		rtb_ring_emit(op, flags, inode ? inode->i_ino : 0, new_encode_dev(sb->s_dev),
			      s->abs, abs_len, s->abs2, abs2_len);
	put_cpu_ptr(scratch);
	if (abs_len == -ENOENT)
		rtb_ring_count_filtered();
	else if (abs_len < 0)
		goto lost;
	dput(alias);
	return 0;
lost:
	/* an event we cannot describe still must not vanish: it becomes an overflow (a rescan) */
	dput(alias);
	rtb_ring_drop(true);
	return 0;
}

static void rtb_freeing_mark(struct fsnotify_mark *fsn, struct fsnotify_group *g)
{
	struct rtb_sbmark *m = container_of(fsn, struct rtb_sbmark, fsn);

	/* our reference stays until rtb_hook_unmark(); this only stops using the mark */
	WRITE_ONCE(m->dead, true);
}

static void rtb_free_mark(struct fsnotify_mark *fsn)
{
	kfree(container_of(fsn, struct rtb_sbmark, fsn));
}

static const struct fsnotify_ops rtb_fsnotify_ops = {
	.handle_event = rtb_handle_event,
	.freeing_mark = rtb_freeing_mark,
	.free_mark = rtb_free_mark,
};

int rtb_hook_install(void)
{
	struct fsnotify_group *g;

	if (group)
		return 0;
	g = rtb_alloc_group(&rtb_fsnotify_ops);
	if (IS_ERR(g))
		return PTR_ERR(g);
	group = g;
	return 0;
}

struct rtb_sbmark *rtb_hook_mark_sb(struct super_block *sb)
{
	struct rtb_sbmark *m;
	int err;

	if (!group)
		return ERR_PTR(-ENODEV);
	list_for_each_entry(m, &marks, node)
		if (m->sb == sb && !READ_ONCE(m->dead))
			return m;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	fsnotify_init_mark(&m->fsn, group);
	m->fsn.mask = RTB_FS_MASK;
	m->sb = sb;
	err = rtb_add_sb_mark(&m->fsn, sb);
	if (err) {
		fsnotify_put_mark(&m->fsn);	/* frees m through rtb_free_mark */
		return ERR_PTR(err);
	}
	list_add(&m->node, &marks);
	nmarks++;
	return m;
}

void rtb_hook_unmark(struct rtb_sbmark *m)
{
	list_del(&m->node);
	nmarks--;
	fsnotify_destroy_mark(&m->fsn, group);
	fsnotify_put_mark(&m->fsn);
}

void rtb_hook_remove(void)
{
	struct rtb_sbmark *m, *tmp;

	if (!group)
		return;
	list_for_each_entry_safe(m, tmp, &marks, node)
		rtb_hook_unmark(m);
	/* after this no handler of ours runs and every mark is freed */
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(group);
	group = NULL;
}

struct super_block *rtb_mark_sb(const struct rtb_sbmark *m)
{
	return m->sb;
}

bool rtb_mark_dead(const struct rtb_sbmark *m)
{
	return READ_ONCE(m->dead);
}

void rtb_hook_gc(bool (*keep)(const struct rtb_sbmark *m, const void *ctx), const void *ctx)
{
	struct rtb_sbmark *m, *tmp;

	list_for_each_entry_safe(m, tmp, &marks, node)
		if (!keep(m, ctx))
			rtb_hook_unmark(m);
}

u32 rtb_hook_marks(void)
{
	return nmarks;
}
