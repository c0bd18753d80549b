// SPDX-License-Identifier: GPL-2.0
/*
 * rtbackup call filtering: the roots user space asked for, the op mask, and the mapping of a path
 * inside a file system onto the absolute path user space knows.
 *
 * A root is kept as the bytes user space gave. Enabling resolves each one in the caller's mount
 * namespace into a view: the file system's mark, where that mount is attached (mount point), which
 * directory of the file system the mount shows (a bind mount may show a subdirectory) and the
 * canonical root prefix. The views are published with RCU for the handler; every change builds a new
 * set, so the handler never sees a half-updated one. Nothing here pins a mount: umount still works and
 * simply kills that file system's mark.
 */
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/dcache.h>
#include <linux/mount.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include "rtbackup.h"

struct rtb_view {
	struct rtb_sbmark *mark;
	char *mnt_point;	/* absolute, no trailing slash ("" for "/") */
	char *mnt_root;		/* inside the file system, no trailing slash ("" for its root) */
	char *prefix;		/* the root, absolute, no trailing slash ("" for "/") */
	u32 mnt_point_len, mnt_root_len, prefix_len;
};

struct rtb_active {
	struct rcu_head rcu;
	u32 nviews;
	struct rtb_view views[];
};

static DEFINE_MUTEX(cfg_mutex);
static char *cfg_paths[RTB_MAX_ROOTS];	/* NUL-terminated copies */
static u32 ncfg;
static bool enabled;
static u32 op_mask = RTB_MASK_ALL;
static struct rtb_active __rcu *active;

void rtb_roots_set_mask(u32 mask)
{
	WRITE_ONCE(op_mask, mask & RTB_MASK_ALL);
}

u32 rtb_roots_mask(void)
{
	return READ_ONCE(op_mask);
}

static void free_active(struct rtb_active *a)
{
	u32 i;

	if (!a)
		return;
	for (i = 0; i < a->nviews; i++) {
		kfree(a->views[i].mnt_point);
		kfree(a->views[i].mnt_root);
		kfree(a->views[i].prefix);
	}
	kfree(a);
}

/* Copies s without a trailing slash; "/" becomes "". */
static char *dup_trimmed(const char *s, u32 *len)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '/')
		n--;
	*len = n;
	return kmemdup_nul(s, n, GFP_KERNEL);
}

/* resolve() when a configured root no longer exists (its file system was unmounted, say) */
#define RTB_ROOT_GONE 1

static int resolve(const char *root, struct rtb_view *v, char *scratch, bool mark)
{
	struct path p, mnt_root;
	char *s;
	int err;

	err = kern_path(root, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (err)
		return mark ? RTB_ROOT_GONE : err;
	if (!mark) {
		path_put(&p);
		return 0;
	}
	err = -ENOMEM;
	s = d_path(&p, scratch, RTB_PATH_MAX);
	if (IS_ERR(s) || !(v->prefix = dup_trimmed(s, &v->prefix_len)))
		goto out;
	mnt_root.mnt = p.mnt;
	mnt_root.dentry = p.mnt->mnt_root;
	s = d_path(&mnt_root, scratch, RTB_PATH_MAX);
	if (IS_ERR(s) || !(v->mnt_point = dup_trimmed(s, &v->mnt_point_len)))
		goto out;
	s = dentry_path_raw(p.mnt->mnt_root, scratch, RTB_PATH_MAX);
	if (IS_ERR(s) || !(v->mnt_root = dup_trimmed(s, &v->mnt_root_len)))
		goto out;
	v->mark = rtb_hook_mark_sb(p.dentry->d_sb);
	err = IS_ERR(v->mark) ? PTR_ERR(v->mark) : 0;
	if (err)
		v->mark = NULL;
out:
	path_put(&p);
	return err;
}

static bool in_active(const struct rtb_sbmark *m, const void *ctx)
{
	const struct rtb_active *a = ctx;
	u32 i;

	for (i = 0; a && i < a->nviews; i++)
		if (a->views[i].mark == m)
			return true;
	return false;
}

/* Builds and publishes the views for the configured roots; called with cfg_mutex held. */
static int rearm(void)
{
	struct rtb_active *next, *prev;
	char *scratch;
	int err;
	u32 i;

	next = kzalloc(struct_size(next, views, ncfg), GFP_KERNEL);
	scratch = kmalloc(RTB_PATH_MAX, GFP_KERNEL);
	err = next && scratch ? rtb_hook_install() : -ENOMEM;
	for (i = 0; !err && i < ncfg; i++) {
		next->nviews++;
		err = resolve(cfg_paths[i], &next->views[next->nviews - 1], scratch, true);
		if (err == RTB_ROOT_GONE) {
			/* the others still deserve capture; the agent's own checks notice a missing root */
			pr_notice(RTB_LOG_PREFIX "root %*pE does not resolve now; not watched until it does\n",
				  (int)strlen(cfg_paths[i]), cfg_paths[i]);
			next->nviews--;
			err = 0;
		}
	}
	kfree(scratch);
	if (err) {
		/* keep what was active; drop marks that only the failed attempt created */
		prev = rcu_dereference_protected(active, lockdep_is_held(&cfg_mutex));
		rtb_hook_gc(in_active, prev);
		free_active(next);
		return err;
	}
	prev = rcu_replace_pointer(active, next, lockdep_is_held(&cfg_mutex));
	synchronize_rcu();
	free_active(prev);
	rtb_hook_gc(in_active, next);
	return 0;
}

static void disarm(void)
{
	struct rtb_active *prev;

	prev = rcu_replace_pointer(active, NULL, lockdep_is_held(&cfg_mutex));
	synchronize_rcu();
	free_active(prev);
	rtb_hook_remove();
}

int rtb_roots_add(const char __user *upath, u32 len)
{
	char *path;
	int err;
	u32 i;

	if (len == 0 || len >= RTB_PATH_MAX)
		return -EINVAL;
	path = memdup_user_nul(upath, len);
	if (IS_ERR(path))
		return PTR_ERR(path);
	if (path[0] != '/' || strlen(path) != len) {
		kfree(path);
		return -EINVAL;
	}
	mutex_lock(&cfg_mutex);
	for (i = 0; i < ncfg; i++) {
		if (!strcmp(cfg_paths[i], path)) {
			err = 0;
			goto out_free;
		}
	}
	err = -ENOSPC;
	if (ncfg == RTB_MAX_ROOTS)
		goto out_free;
	err = resolve(path, NULL, NULL, false);
	if (err)
		goto out_free;
	cfg_paths[ncfg++] = path;
	if (enabled) {
		err = rearm();
		if (err) {
			cfg_paths[--ncfg] = NULL;
			goto out_free;
		}
	}
	mutex_unlock(&cfg_mutex);
	return 0;
out_free:
	mutex_unlock(&cfg_mutex);
	kfree(path);
	return err;
}

void rtb_roots_clear(void)
{
	u32 i;

	mutex_lock(&cfg_mutex);
	for (i = 0; i < ncfg; i++) {
		kfree(cfg_paths[i]);
		cfg_paths[i] = NULL;
	}
	ncfg = 0;
	if (enabled && rearm())
		disarm();	/* cannot even publish an empty set: turn off rather than keep stale roots */
	mutex_unlock(&cfg_mutex);
}

int rtb_roots_enable(void)
{
	int err = 0;

	mutex_lock(&cfg_mutex);
	if (!enabled) {
		err = rearm();
		if (err)
			disarm();
		else
			enabled = true;
	}
	mutex_unlock(&cfg_mutex);
	return err;
}

void rtb_roots_disable(void)
{
	mutex_lock(&cfg_mutex);
	if (enabled) {
		disarm();
		enabled = false;
	}
	mutex_unlock(&cfg_mutex);
}

void rtb_roots_shutdown(void)
{
	rtb_roots_disable();
	rtb_roots_clear();
}

void rtb_roots_counters(struct rtb_counters *c)
{
	mutex_lock(&cfg_mutex);
	c->enabled = enabled;
	c->roots = ncfg;
	c->marks = rtb_hook_marks();
	c->mask = READ_ONCE(op_mask);
	mutex_unlock(&cfg_mutex);
}

/* rel inside the view's mount, as an absolute path in out; -ENOENT when the mount does not show it. */
static int through_mount(const struct rtb_view *v, const char *rel, u32 rel_len, char *out)
{
	const char *rest;
	u32 rest_len, len;

	if (rel_len < v->mnt_root_len || memcmp(rel, v->mnt_root, v->mnt_root_len))
		return -ENOENT;
	rest = rel + v->mnt_root_len;
	rest_len = rel_len - v->mnt_root_len;
	if (rest_len && rest[0] != '/')
		return -ENOENT;
	len = v->mnt_point_len + rest_len;
	if (len == 0) {
		out[0] = '/';
		return 1;
	}
	if (len >= RTB_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, v->mnt_point, v->mnt_point_len);
	memcpy(out + v->mnt_point_len, rest, rest_len);
	return len;
}

static bool under(const struct rtb_view *v, const char *abs, int len)
{
	if (len < 0 || (u32)len < v->prefix_len || memcmp(abs, v->prefix, v->prefix_len))
		return false;
	return (u32)len == v->prefix_len || abs[v->prefix_len] == '/' || v->prefix_len == 0;
}

int rtb_roots_map(struct super_block *sb, const char *rel, u32 rel_len, char *out,
		  const char *rel2, u32 rel2_len, char *out2, int *len2)
{
	const struct rtb_active *a;
	int ret = -ENOENT;
	u32 i;

	rcu_read_lock();
	a = rcu_dereference(active);
	for (i = 0; a && i < a->nviews; i++) {
		const struct rtb_view *v = &a->views[i];
		int l1, l2 = -ENOENT;

		if (rtb_mark_sb(v->mark) != sb || rtb_mark_dead(v->mark))
			continue;
		l1 = through_mount(v, rel, rel_len, out);
		if (rel2)
			l2 = through_mount(v, rel2, rel2_len, out2);
		if (l1 == -ENAMETOOLONG || l2 == -ENAMETOOLONG) {
			ret = -ENAMETOOLONG;
			break;
		}
		if (under(v, out, l1) || (rel2 && under(v, out2, l2))) {
			/* a rename half outside this mount keeps an empty name: the agent rescans the other */
			ret = l1 < 0 ? 0 : l1;
			if (len2)
				*len2 = l2 < 0 ? 0 : l2;
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}
