/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mount layer: the sandbox's view of the filesystem.
 *
 * ward_view_prepare() runs in the supervisor: it opens every host source
 * (system directories or --rootfs, fs.* grants, device nodes) as O_PATH
 * descriptors, refusing symbolic links on the way, so that what is mounted
 * later is exactly what was checked.  ward_view_build() runs in the sandbox's
 * init process (host root inside fresh mount/pid namespaces) and ends with
 * pivot_root into the new root.
 */
#ifndef WARD_MOUNT_H
#define WARD_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "policy.h"

struct ward_view_src {
	int fd;		 /* O_PATH on the host object */
	char *path;	 /* where it appears inside */
	unsigned access; /* WARD_FS_* */
	bool is_dir;
	int idmap_fd; /* user namespace for an idmapped mount, or -1 */
	uid_t owner;  /* st_uid / st_gid of the source */
	gid_t group;
	dev_t rdev;   /* devices */
	char *origin; /* for messages */
};

struct ward_view {
	int rootfs_fd;		   /* --rootfs directory, or -1 */
	struct ward_view_src *sys; /* system directories (host or rootfs entries) */
	size_t n_sys;
	char **links; /* symlinks at the top level: name, target pairs */
	size_t n_links;
	struct ward_view_src *grants;
	size_t n_grants;
	struct ward_view_src *devices;
	size_t n_devices;
	struct ward_view_src *files; /* generated files over the view's own (/etc/hosts) */
	size_t n_files;
	uint64_t tmp_size; /* bytes for /tmp and /dev/shm */
	bool nosuid;	   /* mount with nosuid (no process.setuid) */
	bool proc_sys;	   /* mount a read-only sysfs */
	bool learn;	   /* ward learn: every host directory through an overlay
			    * whose writes land in a throw-away tmpfs */
	/* Rootless (docs/rootless.md): the sources are detached by init,
	 * inside its user namespace (ward_view_rootless_detach), never
	 * idmapped. */
	bool rootless;
	/* Bind the host's /sys read-only instead of mounting a sysfs: a
	 * rootless sandbox without a network namespace of its own
	 * (network.host) may not mount one. */
	bool sys_bind;
	bool tmp_noexec; /* /tmp and /dev/shm noexec (fs.scratch.noexec) */
	/* network.admin: /proc/sys/net stays writable under the read-only
	 * /proc/sys.  Its files are those of the opener's network namespace,
	 * and the kernel lets only root of the user namespace that owns it
	 * write them: the program reaches its own namespace's only. */
	bool proc_net_rw;
	/* security.admin: a second, unmasked procfs of the sandbox's pid
	 * namespace, mounted beneath /dev/.ward-nest and covered, so that the
	 * kernel lets the program mount a procfs for a pid namespace of its
	 * own (ward inside ward, an engine's containers; see build_proc). */
	bool nest_proc;
	/* ward learn, rootless: host directories (the working directory,
	 * /var/tmp) whose chain below an overlay's root is made in its upper
	 * layer beforehand, with the host's owners where the user namespace
	 * maps them: overlayfs cannot copy up a directory whose owner it does
	 * not map (EOVERFLOW), and the program could not write beneath it. */
	const char *learn_paths[2];
	/* Rootless: ward's own state directories (resolved; allocated), hidden
	 * under an empty read-only tmpfs wherever the view would show one
	 * (hide_state in mount.c). */
	char *hide[2];
};

int ward_view_prepare(const struct ward_policy *p, const char *rootfs, struct ward_view *v,
		      ward_error_t *err);
/* The view of ward learn: the host's top-level directories (but /proc,
 * /dev, /sys, /tmp, /run) through overlays, so the program runs as on the
 * host and what it writes is discarded. */
int ward_view_prepare_learn(const struct ward_policy *p, struct ward_view *v, ward_error_t *err);
/* ward learn, in the supervisor: the overlays' lower layers as detached trees
 * idmapped onto the program's host id range (host id N < count -> host_uid + N).
 * Directories whose filesystem cannot be idmapped are left out of the view;
 * *skipped (allocated, or left NULL) names them. */
int ward_view_learn_trees(struct ward_view *v, uid_t host_uid, uint32_t count, char **skipped,
			  ward_error_t *err);
/* Give fs.write grants an idmapped mount: owner of the source -> host_uid. */
int ward_view_idmap(struct ward_view *v, uid_t host_uid, gid_t host_gid, ward_error_t *err);
/* In the supervisor, after ward_view_idmap(): turn every host source into a
 * detached mount tree with its final attributes (read-only, nosuid, nodev,
 * noexec, idmap), ready to be attached inside the sandbox. */
int ward_view_detach(struct ward_view *v, ward_error_t *err);
/* Cover the view's file `inside` (e.g. /etc/hosts) with the host file
 * host_path, read-only.  Made into a detached tree at once, so it may be
 * called after ward_view_detach(). */
int ward_view_add_file(struct ward_view *v, const char *host_path, const char *inside,
		       ward_error_t *err);
/* Rootless, in init (in its new user and mount namespaces, before
 * ward_view_build): reopen every source the supervisor opened, by the path
 * its descriptor has, without following links; refuse if it is no longer the
 * same file (device and inode); then detach the trees as ward_view_detach()
 * does, without idmapping.  ward learn's directories are opened here. */
int ward_view_rootless_detach(struct ward_view *v, ward_error_t *err);
int ward_view_build(const struct ward_view *v, ward_error_t *err);
/* /proc and /sys paths the view masks (true) or makes read-only (false),
 * for ward export: NULL-terminated, each string and the array allocated. */
char **ward_view_special_paths(bool masked);
void ward_view_free(struct ward_view *v);

#endif
