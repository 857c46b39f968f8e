// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup v2 backend: one directory ROOT/ward/NAME in the unified hierarchy.
 *
 * The pids, memory and cpu controllers are enabled in ROOT's and ROOT/ward's
 * cgroup.subtree_control (only those not enabled yet; ward never disables a
 * controller, others may rely on it).  v2 has no devices controller: device
 * access in a sandbox is bounded by its minimal /dev and its capabilities.
 *
 * The same code runs against a stand-in tree for tests: a plain directory
 * with a cgroup.controllers file (see ward_cgroup_detect()).  There mkdir
 * makes no interface files, so writes create them (O_CREAT|O_TRUNC) and a
 * file then holds exactly what ward wrote.  On a real cgroup2 mount nothing
 * is ever created by a write: a missing interface file is an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../util.h"

/* Controllers ward needs, in the order they are enabled. */
static const char *const needed[] = {"pids", "memory", "cpu"};

static int set_value(const struct ward_cgroup *cg, const char *file, const char *value,
		     const char *what, ward_error_t *err)
{
	const struct ward_cg_dir *d = &cg->dirs[0];
	int r = ward_cg_write_at(d->fd, file, value, cg->standin);

	if (r < 0)
		return ward_error_set(err, -r, "cannot set the %s: writing \"%s\" to %s/%s: %s%s",
				      what, value, d->path, file, strerror(-r),
				      r == -ENOENT ? "; is the controller enabled in the parent's "
						     "cgroup.subtree_control?"
						   : "");
	return 0;
}

/*
 * Enable the needed controllers in dirfd's cgroup.subtree_control, writing
 * "+a +b" for those not listed yet, in one write.  Returns 0 or a negative
 * errno with *err set (ENOENT/ENODEV tell ward_cg_make_dir() that ward/ was
 * removed under us).
 */
static int enable_controllers(int dirfd, const char *path, bool standin, ward_error_t *err)
{
	cleanup_free char *cur = NULL;
	char buf[64] = "";
	size_t i;
	int r;

	r = ward_cg_read_at(dirfd, "cgroup.subtree_control", &cur);
	if (r == -ENOENT && standin)
		cur = ward_xstrdup("");
	else if (r < 0)
		goto fail_read;
	for (i = 0; i < ARRAY_SIZE(needed); i++) {
		if (ward_cg_list_has(cur, needed[i]))
			continue;
		if (buf[0])
			strcat(buf, " ");
		strcat(buf, "+");
		strcat(buf, needed[i]);
	}
	if (buf[0] == '\0')
		return 0;
	r = ward_cg_write_at(dirfd, "cgroup.subtree_control", buf, standin);
	if (r < 0) {
		ward_error_set(err, -r,
			       "cannot enable controllers: writing \"%s\" to "
			       "%s/cgroup.subtree_control: %s%s",
			       buf, path, strerror(-r),
			       r == -EBUSY ? "; the cgroup has processes of its own (v2 allows "
					     "controllers only in cgroups without processes): "
					     "move them to a child cgroup"
					   : "");
		return r;
	}
	return 0;
fail_read:
	ward_error_set(err, -r, "cannot read %s/cgroup.subtree_control: %s", path, strerror(-r));
	return r;
}

int ward_cg_v2_create(struct ward_cgroup *cg, const struct ward_policy *p, ward_error_t *err)
{
	struct ward_cg_dir *d = &cg->dirs[0];
	cleanup_free char *avail = NULL;
	uint64_t period = p->cpu_period_us ? p->cpu_period_us : WARD_DEFAULT_CPU_PERIOD;
	char buf[64];
	size_t i;
	int r;

	cg->n_dirs = 1;
	d->hierpath = ward_xstrdup(cg->root);
	d->hierfd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->hierfd < 0)
		return ward_error_sys(err, "cannot open the cgroup root %s", cg->root);
	/* Decided once, from the filesystem itself: only a directory that is
	 * not a cgroup2 mount gets the create-on-write treatment. */
	cg->standin = !ward_cg_fs_is(d->hierfd, CGROUP2_SUPER_MAGIC);

	/* Check availability before changing anything. */
	r = ward_cg_read_at(d->hierfd, "cgroup.controllers", &avail);
	if (r < 0)
		return ward_error_set(err, -r, "cannot read %s/cgroup.controllers: %s", cg->root,
				      strerror(-r));
	for (i = 0; i < ARRAY_SIZE(needed); i++) {
		if (ward_cg_list_has(avail, needed[i]))
			continue;
		return ward_error_set(
			err, ENOENT,
			"the cgroup v2 \"%s\" controller ward needs is not available "
			"in %s: it is missing from %s/cgroup.controllers; enable it "
			"in the parent cgroup (echo +%s > PARENT/cgroup.subtree_control)"
			", or, at the root of the hierarchy, free it from cgroup v1 "
			"(unmount its v1 hierarchy, or boot with cgroup_no_v1=%s)",
			needed[i], cg->root, cg->root, needed[i], needed[i]);
	}

	if (enable_controllers(d->hierfd, cg->root, cg->standin, err) < 0)
		return -1;
	if (ward_cg_make_dir(d, cg->name, cg->standin, enable_controllers, err) < 0)
		return -1;

	snprintf(buf, sizeof(buf), "%" PRIu64, p->pids_max);
	if (set_value(cg, "pids.max", buf, "process limit", err) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%" PRIu64, p->memory_max);
	if (set_value(cg, "memory.max", buf, "memory limit", err) < 0)
		return -1;
	/* No swap: otherwise a memory bomb is pushed to swap instead of being
	 * stopped.  The file exists only with CONFIG_SWAP; the stand-in tree
	 * never has it (optional files are written only when present). */
	if (ward_cg_exists_at(d->fd, "memory.swap.max") &&
	    set_value(cg, "memory.swap.max", "0", "swap limit", err) < 0)
		return -1;
	if (p->cpu_quota_us)
		snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64, p->cpu_quota_us, period);
	else
		snprintf(buf, sizeof(buf), "max %" PRIu64, period);
	if (set_value(cg, "cpu.max", buf, "cpu limit", err) < 0)
		return -1;
	return 0;
}

bool ward_cg_v2_oom_killed(const struct ward_cgroup *cg)
{
	uint64_t v = 0;

	if (cg->dirs[0].fd < 0)
		return false;
	/* oom_kill counts processes the OOM killer took in this cgroup or below. */
	return ward_cg_keyed_get(cg->dirs[0].fd, "memory.events", "oom_kill", &v) == 0 && v > 0;
}

bool ward_cg_v2_pids_exhausted(const struct ward_cgroup *cg)
{
	uint64_t v = 0;

	if (cg->dirs[0].fd < 0)
		return false;
	/* "max N": forks refused because pids.max was reached. */
	return ward_cg_keyed_get(cg->dirs[0].fd, "pids.events", "max", &v) == 0 && v > 0;
}
