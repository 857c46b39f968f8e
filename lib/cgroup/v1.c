// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup v1 backend, used for the v1 and hybrid layouts: one directory
 * ROOT/CONTROLLER/ward/NAME in each of the pids, memory, cpu and devices
 * hierarchies.
 *
 * Hierarchies ward does not join (cpuacct, cpuset, freezer, blkio, the named
 * systemd one, and on hybrid the cgroup2 mount at ROOT/unified) keep the
 * process where its parent was.  cpuset in particular is avoided: a new v1
 * cpuset cgroup has empty cpuset.cpus/mems and refuses tasks until they are
 * copied from the parent, and ward has no use for cpu pinning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "../util.h"

static const char *const slot_controller[WARD_CG_NSLOTS] = {
	[WARD_CG_PIDS] = "pids",
	[WARD_CG_MEMORY] = "memory",
	[WARD_CG_CPU] = "cpu",
	[WARD_CG_DEVICES] = "devices",
};

/*
 * Device nodes every sandbox may open (read and write): the ones a minimal
 * /dev holds.  No 'm': nothing in a sandbox needs mknod, so even a process
 * that somehow holds CAP_MKNOD cannot make a node for, say, a disk.  Nodes
 * granted with host.devices get "rw" too.
 */
static const char *const default_devices[] = {
	"c 1:3 rw",   /* /dev/null */
	"c 1:5 rw",   /* /dev/zero */
	"c 1:7 rw",   /* /dev/full */
	"c 1:8 rw",   /* /dev/random */
	"c 1:9 rw",   /* /dev/urandom */
	"c 5:0 rw",   /* /dev/tty */
	"c 5:2 rw",   /* /dev/ptmx */
	"c 136:* rw", /* /dev/pts/N */
};

static int set_value(const struct ward_cg_dir *d, const char *file, const char *value,
		     const char *what, ward_error_t *err)
{
	int r = ward_cg_write_at(d->fd, file, value, false);

	if (r < 0)
		return ward_error_set(err, -r, "cannot set the %s: writing \"%s\" to %s/%s: %s%s",
				      what, value, d->path, file, strerror(-r),
				      r == -ENOENT ? "; is that controller attached to this "
						     "hierarchy?"
						   : "");
	return 0;
}

static int set_u64(const struct ward_cg_dir *d, const char *file, uint64_t v, const char *what,
		   ward_error_t *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return set_value(d, file, buf, what, err);
}

static int setup_pids(const struct ward_cg_dir *d, const struct ward_policy *p, ward_error_t *err)
{
	return set_u64(d, "pids.max", p->pids_max, "process limit", err);
}

static int setup_memory(const struct ward_cg_dir *d, const struct ward_policy *p, ward_error_t *err)
{
	if (set_u64(d, "memory.limit_in_bytes", p->memory_max, "memory limit", err) < 0)
		return -1;
	/* memsw limits memory plus swap.  Without it, a memory bomb would be
	 * pushed out to swap instead of being stopped.  It exists only with
	 * swap accounting (CONFIG_MEMCG_SWAP, swapaccount=1).  Equal to the
	 * memory limit means no swap at all; it must be written after
	 * limit_in_bytes because the kernel wants memsw >= limit. */
	if (ward_cg_exists_at(d->fd, "memory.memsw.limit_in_bytes") &&
	    set_u64(d, "memory.memsw.limit_in_bytes", p->memory_max, "memory+swap limit", err) < 0)
		return -1;
	return 0;
}

static int setup_cpu(const struct ward_cg_dir *d, const struct ward_policy *p, ward_error_t *err)
{
	uint64_t period = p->cpu_period_us ? p->cpu_period_us : WARD_DEFAULT_CPU_PERIOD;

	/* No cpu.limit: the new cgroup already has no quota and the default
	 * period (the kernel's defaults, 100 ms and -1).  Writing them again
	 * would cost two bandwidth updates (a CPU-hotplug lock and a walk of
	 * the task groups) at every start.  The cgroup itself still groups the
	 * sandbox's tasks into one scheduling entity. */
	if (p->cpu_quota_us == 0 && period == WARD_DEFAULT_CPU_PERIOD)
		return 0;
	/* Period first: the quota is checked against it. */
	if (set_u64(d, "cpu.cfs_period_us", period, "cpu period", err) < 0)
		return -1;
	if (p->cpu_quota_us == 0)
		return set_value(d, "cpu.cfs_quota_us", "-1", "cpu quota", err);
	return set_u64(d, "cpu.cfs_quota_us", p->cpu_quota_us, "cpu quota", err);
}

static int setup_devices(const struct ward_cg_dir *d, const struct ward_policy *p,
			 ward_error_t *err)
{
	cleanup_close int allow = -1;
	size_t i;

	/* Deny everything first, then allow: the list is then exactly ours,
	 * whatever the parent allowed. */
	if (set_value(d, "devices.deny", "a", "device list", err) < 0)
		return -1;
	/* Each write of devices.allow is one rule: one open for all of them. */
	allow = openat(d->fd, "devices.allow", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	for (i = 0; i < ARRAY_SIZE(default_devices); i++) {
		size_t len = strlen(default_devices[i]);

		if (allow >= 0 && write(allow, default_devices[i], len) == (ssize_t)len)
			continue;
		if (set_value(d, "devices.allow", default_devices[i], "device list", err) < 0)
			return -1;
	}
	for (i = 0; i < p->n_devices; i++) {
		const char *path = p->devices[i].path;
		char rule[64];
		struct stat st;
		char type;

		if (path == NULL || stat(path, &st) < 0)
			return ward_error_sys(err,
					      "host.devices grant %s (from %s): cannot stat it",
					      path ? path : "(null)",
					      p->devices[i].origin ? p->devices[i].origin : "?");
		if (S_ISCHR(st.st_mode))
			type = 'c';
		else if (S_ISBLK(st.st_mode))
			type = 'b';
		else
			return ward_error_set(
				err, EINVAL,
				"host.devices grant %s (from %s) is not a device node; "
				"grant a character or block device under /dev",
				path, p->devices[i].origin ? p->devices[i].origin : "?");
		snprintf(rule, sizeof(rule), "%c %u:%u rw", type, major(st.st_rdev),
			 minor(st.st_rdev));
		if (set_value(d, "devices.allow", rule, "device list", err) < 0)
			return -1;
	}
	return 0;
}

int ward_cg_v1_create(struct ward_cgroup *cg, const struct ward_policy *p, ward_error_t *err)
{
	cleanup_close int rootfd = -1;
	size_t i;
	int r;

	rootfd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ward_error_sys(err, "cannot open the cgroup root %s", cg->root);
	/* The devices slot is the last: leaving it out is a shorter list. */
	cg->n_dirs = cg->no_devices ? WARD_CG_DEVICES : WARD_CG_NSLOTS;
	/* Check every hierarchy before creating anything. */
	for (i = 0; i < cg->n_dirs; i++) {
		struct ward_cg_dir *d = &cg->dirs[i];
		const char *c = slot_controller[i];

		d->controller = c;
		d->hierpath = ward_xasprintf("%s/%s", cg->root, c);
		/* Follow a symlink here: distributions link cpu -> cpu,cpuacct. */
		d->hierfd = openat(rootfd, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d->hierfd < 0 || !ward_cg_fs_is(d->hierfd, CGROUP_SUPER_MAGIC))
			return ward_error_set(err, ENOENT,
					      "the cgroup v1 \"%s\" controller ward needs is not "
					      "mounted at %s: mount it (mkdir -p %s && mount -t "
					      "cgroup -o %s cgroup %s), or use a cgroup v2 system",
					      c, d->hierpath, d->hierpath, c, d->hierpath);
	}
	for (i = 0; i < cg->n_dirs; i++) {
		struct ward_cg_dir *d = &cg->dirs[i];

		if (ward_cg_make_dir(d, cg->name, false, NULL, err) < 0)
			return -1;
		switch (i) {
		case WARD_CG_PIDS:
			r = setup_pids(d, p, err);
			break;
		case WARD_CG_MEMORY:
			r = setup_memory(d, p, err);
			break;
		case WARD_CG_CPU:
			r = setup_cpu(d, p, err);
			break;
		case WARD_CG_DEVICES:
			r = setup_devices(d, p, err);
			break;
		default:
			r = 0;
			break;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

bool ward_cg_v1_oom_killed(const struct ward_cgroup *cg)
{
	const struct ward_cg_dir *d = &cg->dirs[WARD_CG_MEMORY];
	uint64_t v = 0;

	if (d->fd < 0)
		return false;
	/* memory.oom_control has counted kills ("oom_kill N") since Linux 4.13. */
	if (ward_cg_keyed_get(d->fd, "memory.oom_control", "oom_kill", &v) == 0)
		return v > 0;
	/* Older kernels: failcnt counts how often the limit was hit, which
	 * includes reclaim that succeeded; the best available sign. */
	if (ward_cg_read_u64(d->fd, "memory.failcnt", &v) == 0)
		return v > 0;
	return false;
}

bool ward_cg_v1_pids_exhausted(const struct ward_cgroup *cg)
{
	const struct ward_cg_dir *d = &cg->dirs[WARD_CG_PIDS];
	uint64_t v = 0;

	if (d->fd < 0)
		return false;
	return ward_cg_keyed_get(d->fd, "pids.events", "max", &v) == 0 && v > 0;
}
