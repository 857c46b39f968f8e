/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups for OCI containers (implemented in lib/cgroup/oci.c).
 *
 * An OCI config names its cgroup with linux.cgroupsPath (podman:
 * "/libpod_parent/libpod-ID") and asks for richer resources than ward's own
 * sandboxes (cpu shares, cpusets, blkio, device rules).  This manager makes
 * that path in every hierarchy of the layout (every mounted v1 hierarchy on
 * v1 and hybrid; the one unified hierarchy on v2, or a stand-in directory
 * for tests), writes the resources, and later finds the same directories
 * again from the state file to pause, signal and remove.  It removes only the
 * directory levels it created.  The host's mounts are never touched.
 */
#ifndef WARD_OCI_CGROUP_H
#define WARD_OCI_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../cgroup/cgroup.h"
#include "../error.h"
#include "config.h"

#define WARD_OCI_CG_MAX 20

struct ward_oci_cg_dir {
	char *name;  /* v1: the hierarchy's directory name ("cpu", "cpu,cpuacct"); v2: "" */
	char *path;  /* ROOT/NAME/PATH, for messages and bind mounts */
	int fd;	     /* O_DIRECTORY on it, -1 when closed */
	int created; /* how many trailing levels of PATH ward made (0: it existed) */
};

/*
 * Whose processes the runtime may kill.  A cgroup whose last level ward
 * made in every hierarchy (ward_oci_cgroup_owned) holds only what ward
 * put there.  A cgroup that existed before (a cgroupsPath naming another
 * program's cgroup; allowed without the entitlements annotation, as runc
 * does) may hold processes ward never started: then only the container's
 * are signalled, those of its own pid namespace (or of one nested in it),
 * or, when it shares the host's, its init alone.  Set from the state.
 */
struct ward_oci_cg_scope {
	bool pidns;	 /* the container has a pid namespace of its own: */
	dev_t pidns_dev; /*   its nsfs identity */
	ino_t pidns_ino;
	pid_t init;		       /* the init, or 0 */
	unsigned long long init_start; /* its start time (against pid reuse) */
};

struct ward_oci_cgroup {
	enum ward_cgroup_layout layout;
	struct ward_oci_cg_scope scope;
	bool standin;	 /* v2 stand-in tree: interface files are created by writes */
	bool no_devices; /* update: the device rules stay as they are */
	bool partial;	 /* rootless: only the hierarchies the caller may write */
	char *root;	 /* /sys/fs/cgroup */
	char *path;	 /* absolute cgroup path, "/libpod_parent/libpod-ID" */
	struct ward_oci_cg_dir dirs[WARD_OCI_CG_MAX];
	size_t n_dirs;
	char **symlinks; /* v1 only: "cpuacct" -> "cpu,cpuacct" pairs at ROOT, for the view */
	size_t n_symlinks;
};

/* Resolve cgroupsPath: absolute as is; relative beneath the caller's own
 * cgroup; absent "/ward/oci/ID".  systemd's "slice:prefix:name" form is
 * refused with a message (no systemd here). */
char *ward_oci_cgroup_path(const char *cgroups_path, const char *id, bool systemd,
			   ward_error_t *err);
/* Make (create) or find (!create) PATH in every hierarchy under root (NULL:
 * /sys/fs/cgroup). */
int ward_oci_cgroup_open(const char *root, const char *path, bool create,
			 struct ward_oci_cgroup **out, ward_error_t *err);
/* Rootless (docs/rootless.md, OCI): the same, but PATH is made only in the
 * hierarchies where the caller may make it (those delegated to the user);
 * the others are left out, and the device rules are never written (a
 * devices list or a v2 device program needs the host's CAP_SYS_ADMIN; the
 * user namespace makes every device node the container mounts nodev).
 * *out is NULL, and 0 returned, when no hierarchy is writable at all. */
int ward_oci_cgroup_open_partial(const char *root, const char *path, bool create,
				 struct ward_oci_cgroup **out, ward_error_t *err);
/* Write the resources.  A resource the host has no controller or file
 * for is an error (runtime-spec: a property that cannot be applied), but
 * for memory.swap without swap accounting and the deprecated
 * memory.kernel, which are warnings; a value the kernel refuses is an
 * error. */
int ward_oci_cgroup_apply(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
			  bool devices_default, ward_error_t *err);
/* `update`: the same, for a running container, without touching its
 * device rules (an update carries none: runc's update leaves them too). */
int ward_oci_cgroup_update(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
			   ward_error_t *err);
/* runc's `events --stats` data: {"cpu", "memory", "pids"} of the cgroup. */
json_t *ward_oci_cgroup_stats(struct ward_oci_cgroup *cg);
int ward_oci_cgroup_enter(struct ward_oci_cgroup *cg, pid_t pid, ward_error_t *err);
/* v2 only: a descriptor for clone3(CLONE_INTO_CGROUP), or -1. */
int ward_oci_cgroup_dirfd(const struct ward_oci_cgroup *cg);
/* Freeze (pause) or thaw (resume); waits until the kernel reports it done. */
int ward_oci_cgroup_freeze(struct ward_oci_cgroup *cg, bool freeze, ward_error_t *err);
bool ward_oci_cgroup_frozen(const struct ward_oci_cgroup *cg);
/* Pids in the cgroup (sorted). */
int ward_oci_cgroup_pids(const struct ward_oci_cgroup *cg, pid_t **out, size_t *n,
			 ward_error_t *err);
/* Did ward make the last level of the path in every hierarchy? */
bool ward_oci_cgroup_owned(const struct ward_oci_cgroup *cg);
/* Send sig to every process of the cgroup that ward started (the whole
 * cgroup when ward made it; see struct ward_oci_cg_scope), with pidfds:
 * never to a reused pid. */
int ward_oci_cgroup_signal(const struct ward_oci_cgroup *cg, int sig, ward_error_t *err);
/* Kill what is left of ward's, remove the levels ward created, free cg.
 * Safe with NULL. */
int ward_oci_cgroup_destroy(struct ward_oci_cgroup *cg, ward_error_t *err);
void ward_oci_cgroup_free(struct ward_oci_cgroup *cg);

/* State file round trip: {"root", "path", "layout", "created": {name: levels}}. */
json_t *ward_oci_cgroup_to_json(const struct ward_oci_cgroup *cg);
int ward_oci_cgroup_from_json(json_t *j, struct ward_oci_cgroup **out, ward_error_t *err);

#endif
