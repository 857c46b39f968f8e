/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between cgroup.c (layout detection, common helpers), v1.c and v2.c.
 * Nothing here is exported from libward.
 */
#ifndef WARD_CGROUP_INTERNAL_H
#define WARD_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* The directory ward creates in every hierarchy; sandboxes live beneath it.
 * It is shared: one sandbox never removes it while another one uses it. */
#define WARD_CG_PARENT "ward"
/* Rootless: the users' delegated subtrees, ROOT[/CONTROLLER]/ward-users/user-UID
 * (`ward delegate`, delegate.c). */
#define WARD_CG_USERS "ward-users"
/* Longest sandbox name accepted (well under NAME_MAX). */
#define WARD_CG_NAME_MAX 128

/* Hierarchies used on v1 and hybrid, in the order they are created and
 * entered.  On v2 only slot 0 is used. */
enum ward_cg_slot {
	WARD_CG_PIDS,
	WARD_CG_MEMORY,
	WARD_CG_CPU,
	WARD_CG_DEVICES,
	WARD_CG_NSLOTS,
};

/* One cgroup directory ROOT[/controller]/ward/NAME. */
struct ward_cg_dir {
	const char *controller; /* "pids", ... on v1; NULL on v2 */
	int hierfd;		/* ROOT (v2) or ROOT/controller (v1) */
	int wardfd;		/* .../ward */
	int fd;			/* .../ward/NAME, O_DIRECTORY */
	char *hierpath;		/* ROOT or ROOT/controller, for messages only */
	char *path;		/* .../ward/NAME, for messages only */
	bool created;		/* we made .../ward/NAME (remove it on failure) */
	bool made_ward;		/* we made .../ward itself (remove it if left empty) */
	/* The directory the sandboxes are made in, relative to the
	 * hierarchy: WARD_CG_PARENT, or (rootless) a delegated cgroup that
	 * must exist and is never made or removed (parent_fixed). */
	const char *parent;
	bool parent_fixed;
};

struct ward_cgroup {
	enum ward_cgroup_layout layout;
	char *root;
	char *name;
	char *parent; /* see struct ward_cg_dir */
	bool parent_fixed;
	bool no_devices; /* v1: the devices hierarchy is not joined */
	/* v2 only: root is a plain directory standing in for cgroupfs (tests).
	 * Interface files are then created by the writes, and removal unlinks
	 * them before rmdir. */
	bool standin;
	struct ward_cg_dir dirs[WARD_CG_NSLOTS];
	size_t n_dirs;
};

/* cgroup.c: helpers shared by both backends.  Those returning int return 0 or
 * a negative errno unless they take a ward_error_t. */
int ward_cg_read_at(int dirfd, const char *file, char **out);
int ward_cg_write_at(int dirfd, const char *file, const char *data, bool create);
bool ward_cg_exists_at(int dirfd, const char *file);
bool ward_cg_fs_is(int fd, long magic);
/* Find "key N" in a flat-keyed file (memory.events, pids.events,
 * memory.oom_control) and parse N. */
int ward_cg_keyed_get(int dirfd, const char *file, const char *key, uint64_t *val);
/* Read a file holding one decimal number (memory.failcnt). */
int ward_cg_read_u64(int dirfd, const char *file, uint64_t *val);
/* Does a space separated list (cgroup.controllers) contain word? */
bool ward_cg_list_has(const char *list, const char *word);
/* Called on the ward directory before NAME is made in it (v2 enables its
 * controllers there).  Returns 0 or a negative errno with *err set. */
typedef int (*ward_cg_prepare_fn)(int wardfd, const char *wardpath, bool standin,
				  ward_error_t *err);
/* With d->hierfd and d->hierpath set: open (creating if needed) ward/ and make
 * ward/NAME in it, filling d->wardfd, d->fd, d->path and d->created.  The step
 * is retried when a concurrent destroy removed an empty ward/ meanwhile. */
int ward_cg_make_dir(struct ward_cg_dir *d, const char *name, bool standin,
		     ward_cg_prepare_fn prepare, ward_error_t *err);
/* Kill every process in d, remove d if we created it (and ward/ when that
 * leaves it empty), close the descriptors.  Safe on a partly filled d. */
int ward_cg_dir_remove(struct ward_cg_dir *d, const char *name, bool standin, ward_error_t *err);
void ward_cg_dir_init(struct ward_cg_dir *d);

/* v1.c and v2.c: fill cg->dirs from the policy.  On failure they leave in
 * cg->dirs what must be removed; the caller does that. */
int ward_cg_v1_create(struct ward_cgroup *cg, const struct ward_policy *p, ward_error_t *err);
int ward_cg_v2_create(struct ward_cgroup *cg, const struct ward_policy *p, ward_error_t *err);
bool ward_cg_v1_oom_killed(const struct ward_cgroup *cg);
bool ward_cg_v2_oom_killed(const struct ward_cgroup *cg);
bool ward_cg_v1_pids_exhausted(const struct ward_cgroup *cg);
bool ward_cg_v2_pids_exhausted(const struct ward_cgroup *cg);

#endif
