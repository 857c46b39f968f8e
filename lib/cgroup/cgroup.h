/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup layer: pids, memory, cpu (and devices on v1).
 *
 * Three layouts are supported:
 *   v2      - one cgroup2 hierarchy at the root (most distributions today);
 *   v1      - one hierarchy per controller under the root;
 *   hybrid  - v1 controllers plus a cgroup2 mount at ROOT/unified that holds no
 *             useful controller (this machine).  ward uses the v1 controllers and
 *             never unmounts or alters anything of the host's.
 * The root is a parameter so tests can point the v2 backend at a directory tree
 * that stands in for /sys/fs/cgroup.
 */
#ifndef WARD_CGROUP_H
#define WARD_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"
#include "../policy.h"

enum ward_cgroup_layout {
	WARD_CGROUP_NONE,
	WARD_CGROUP_V1,
	WARD_CGROUP_V2,
	WARD_CGROUP_HYBRID,
};

struct ward_cgroup;

/* Detect the layout under root (NULL means /sys/fs/cgroup). */
enum ward_cgroup_layout ward_cgroup_detect(const char *root);
const char *ward_cgroup_layout_name(enum ward_cgroup_layout l);

/* Create ROOT/.../ward/NAME in every needed hierarchy and write the limits of p
 * (pids.max, memory limit, cpu quota/period, v1 devices list).  Fails, removing
 * what it made, when a controller ward needs is missing. */
int ward_cgroup_create(const struct ward_policy *p, const char *root, const char *name,
		       struct ward_cgroup **out, ward_error_t *err);
/*
 * Where the sandboxes' cgroups are made.  root NULL: /sys/fs/cgroup.  parent
 * NULL: ROOT[/CONTROLLER]/ward, made when missing (root mode); otherwise a
 * path relative to each hierarchy that must exist and is never made or
 * removed: a cgroup delegated to the caller (rootless: ward-users/user-UID, made
 * by `ward delegate`, or $WARD_CGROUP).  no_devices: on v1, do not join the
 * devices hierarchy (writing devices.allow needs CAP_SYS_ADMIN).
 */
struct ward_cgroup_where {
	const char *root;
	const char *parent;
	bool no_devices;
};
int ward_cgroup_create_at(const struct ward_policy *p, const struct ward_cgroup_where *w,
			  const char *name, struct ward_cgroup **out, ward_error_t *err);
void ward_cgroup_gc_at(const struct ward_cgroup_where *w);
/* Rootless: the delegated cgroup to make sandboxes in, relative to each
 * hierarchy ($WARD_CGROUP, else ward-users/user-UID when it belongs to uid), or
 * NULL; *how names where it came from.  NULL with *how set: $WARD_CGROUP is
 * not a path below the root (empty after normalizing, or with a ".."
 * component), which callers refuse.  (lib/cgroup/delegate.c) */
char *ward_cgroup_delegated(const char *root, uid_t uid, const char **how);
/* ward delegate: make (or with undo remove) ROOT[/CONTROLLER]/ward-users/user-UID
 * for uid:gid, idempotently; *done lists the directories (allocated). */
int ward_cgroup_delegate(const char *root, uid_t uid, gid_t gid, bool undo, char **done,
			 ward_error_t *err);
/* security.admin (docs/engines.md): give the sandbox's own cgroup to
 * uid:gid so the sandbox may divide it (mkdir, and moving its own processes:
 * the directory, cgroup.procs and tasks on v1; cgroup.procs, cgroup.threads
 * and cgroup.subtree_control on v2), in the pids, memory and cpu hierarchies;
 * its limit files stay root's, and the kernel counts every child against
 * them.  Not the devices hierarchy. */
int ward_cgroup_give(struct ward_cgroup *cg, uid_t uid, gid_t gid, ward_error_t *err);
/* Init of a security.admin sandbox, in its new cgroup namespace: mount its
 * pids, memory and cpu hierarchies (v1, each rooted at the sandbox's cgroup)
 * or cgroup2 on target (/sys/fs/cgroup of the view). */
int ward_cgroup_mount_inside(const char *target, ward_error_t *err);
/* Move pid into the cgroup in every hierarchy. */
int ward_cgroup_enter(struct ward_cgroup *cg, pid_t pid, ward_error_t *err);
/* On v2: an O_DIRECTORY fd of the cgroup, usable with clone3(CLONE_INTO_CGROUP).
 * -1 on v1 and hybrid. */
int ward_cgroup_dirfd(const struct ward_cgroup *cg);
/* Did the memory limit kill a process? / Did the pids limit refuse a fork? */
bool ward_cgroup_oom_killed(const struct ward_cgroup *cg);
bool ward_cgroup_pids_exhausted(const struct ward_cgroup *cg);
/* Highest memory use seen (v1 memory.max_usage_in_bytes, v2 memory.peak); 0
 * when unknown. */
uint64_t ward_cgroup_memory_peak(const struct ward_cgroup *cg);
/* Kill what is left, remove the directories, free cg.  Safe with NULL. */
int ward_cgroup_destroy(struct ward_cgroup *cg, ward_error_t *err);
/* Remove empty ROOT/.../ward/run-PID cgroups whose PID is gone (a supervisor
 * killed with SIGKILL cannot clean up).  Best effort, never fails. */
void ward_cgroup_gc(const char *root);
/* The same, but never the caller's own run-PID, even when it is empty (a
 * supervisor collecting while its own sandbox runs or has just ended). */
void ward_cgroup_gc_others(const char *root);
enum ward_cgroup_layout ward_cgroup_get_layout(const struct ward_cgroup *cg);
/* The cgroup's directories (one per hierarchy), for a cleaner that outlives
 * the caller; returns how many were put in out (pointers into cg). */
size_t ward_cgroup_paths(const struct ward_cgroup *cg, const char **out, size_t max);

#endif
