/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the files of lib/oci/; nothing here is exported. */
#ifndef WARD_OCI_INTERNAL_H
#define WARD_OCI_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../landlock.h"
#include "../policy.h"
#include "../seccomp/seccomp.h"
#include "cgroup.h"
#include "config.h"
#include "oci.h"

/* ---- state (state.c) ---- */

enum ward_oci_status {
	WARD_OCI_CREATING,
	WARD_OCI_CREATED,
	WARD_OCI_RUNNING,
	WARD_OCI_PAUSED,
	WARD_OCI_STOPPED,
};

struct oci_state {
	char *id;
	int dirfd; /* ROOT/ID, flocked when opened for a change */
	char *dir;
	json_t *json; /* state.json as saved */
	/* Convenience views into json. */
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22, against pid reuse */
	const char *bundle;
};

const char *ward_oci_status_name(enum ward_oci_status s);
bool ward_oci_id_ok(const char *id, ward_error_t *err);
/* Open ROOT, creating it (0700) when create is set. */
int ward_oci_root_open(const char *root, bool create, ward_error_t *err);
/* Load ROOT/ID; lock: take an exclusive flock first. */
int ward_oci_state_load(const char *root, const char *id, bool lock, struct oci_state *s,
			ward_error_t *err);
int ward_oci_state_save(struct oci_state *s, ward_error_t *err);
void ward_oci_state_free(struct oci_state *s);
enum ward_oci_status ward_oci_state_status(const struct oci_state *s, struct ward_oci_cgroup *cg);
/* The runtime-spec state object (what `state` prints and hooks read). */
json_t *ward_oci_state_public(const struct oci_state *s, enum ward_oci_status st);
/* Start time of a live, non-zombie process; 0 when gone. */
unsigned long long ward_oci_proc_start_time(pid_t pid);
/* Remove ROOT/ID entirely. */
int ward_oci_state_remove(struct oci_state *s, ward_error_t *err);
/* The cgroup recorded in the state, or NULL (then *err may be set). */
struct ward_oci_cgroup *ward_oci_state_cgroup(const struct oci_state *s);

/* ---- hooks (hooks.c) ---- */

int ward_oci_hooks_run(const struct ward_oci_hooks *h, const char *kind, const char *state_json,
		       ward_error_t *err);
/* Every hook of the list; a failure is a logged warning (poststart, poststop). */
void ward_oci_hooks_run_warn(const struct ward_oci_hooks *h, const char *kind,
			     const char *state_json);
/* Hooks from/to the state file (poststop runs at delete, maybe without the bundle). */
json_t *ward_oci_hooks_to_json(const struct ward_oci_hooks *h);
int ward_oci_hooks_from_json(json_t *j, struct ward_oci_hooks *h);
void ward_oci_hooks_free(struct ward_oci_hooks *h);

/* ---- seccomp from the config (seccomp_oci.c) ---- */

struct oci_seccomp {
	struct ward_seccomp_prog prog; /* n_insns == 0: none */
	unsigned flags;		       /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
	bool notify;		       /* has SCMP_ACT_NOTIFY rules */
	char *listener_path;
	char *listener_metadata;
};
int ward_oci_seccomp_compile(json_t *seccomp, const char *file, struct oci_seccomp *out,
			     ward_error_t *err);
/* The same through the cache of compiled programs (create and run). */
int ward_oci_seccomp_prepare(json_t *seccomp, const char *file, struct oci_seccomp *out,
			     ward_error_t *err);
void ward_oci_seccomp_free(struct oci_seccomp *s);
/* Save/load a compiled program in the state directory (for exec). */
int ward_oci_prog_save(int dirfd, const char *name, const struct ward_seccomp_prog *p,
		       unsigned flags, ward_error_t *err);
int ward_oci_prog_load(int dirfd, const char *name, struct ward_seccomp_prog *p, unsigned *flags);

/* ---- entitlements (entitle.c, entitle_fs.c, explain.c) ---- */

/* Why a bind mount's source may be seen by the container. */
enum oci_src_kind {
	OCI_SRC_NONE = 0, /* not a bind mount, or no entitlements */
	OCI_SRC_GRANT,	  /* beneath a path an fs.* entitlement grants */
	OCI_SRC_DEVICE,	  /* a device node a host.devices entitlement grants */
	OCI_SRC_BUNDLE,	  /* beneath the bundle: part of what was handed over */
	OCI_SRC_ENGINE,	  /* the engine's own file for this container */
	OCI_SRC_OVERLAY,  /* root.path only: an overlay mount (an engine's image) */
};
const char *ward_oci_src_kind_name(enum oci_src_kind k);

struct oci_src {
	enum oci_src_kind kind;
	int fd;		 /* O_PATH, resolved beneath what allows it; -1 */
	unsigned access; /* WARD_FS_* of the grant */
	bool is_dir;
	char *grant; /* OCI_SRC_GRANT: the granted path */
};

struct oci_entitlements {
	bool present;
	struct ward_policy policy;
	char *text; /* the annotation */
	char *file; /* config.json's path (escaped), for messages */
	/* What the merge did, one line per change, for explain and the log. */
	char **notes;
	size_t n_notes;
	/* The fields that ask for more than the entitlements allow, one line
	 * each: "mounts[3].type \"ext4\": ...".  Any refusal fails create. */
	char **refusals;
	size_t n_refusals;
	/* The filesystem the runtime builds (entitle_fs.c). */
	struct oci_src *srcs; /* one per config mount */
	size_t n_srcs;
	struct oci_src root; /* root.path */
	bool userns_added;   /* ward adds the user namespace: maps from its pool */
	/* pod.c */
	const char *state_root; /* --root, where a pod's sandbox is found */
	char *pod_why;		/* why the sandbox's namespaces may not be joined */
	char *pod_sandbox;	/* joined: the sandbox's id (its user namespace too) */
	/* explain: the view at admission, from outside the pod's shim (the
	 * shim condition of pod.c is create's, and said so). */
	bool admission;
};
/* Parse the annotation (if any) and bound the config by it: trim what can
 * be trimmed (a note each), refuse what cannot (every refusal is
 * collected; create fails with the first, explain prints them all). */
int ward_oci_entitlements_apply(struct ward_oci_config *c, const char *id, const char *state_root,
				struct oci_entitlements *e, ward_error_t *err);
/* The same for explain (admission true: no pod shim to check). */
int ward_oci_entitlements_bound(struct ward_oci_config *c, const char *id, const char *state_root,
				bool admission, struct oci_entitlements *e, ward_error_t *err);
/* pod.c: a pod container's /sys, mounted by the runtime in its joined
 * network namespace (under the entitlements). */
struct oci_container;
int ward_oci_pod_sysfs(struct oci_container *c, ward_error_t *err);
/* pod.c: a CRI sandbox's or application container's namespaces (see there). */
void ward_oci_pod_namespaces(struct ward_oci_config *c, struct oci_entitlements *e,
			     const char *root);
/* The process-level bounds, shared with exec (--process, --cap, ...). */
void ward_oci_entitlements_process(struct ward_oci_process *p, const struct ward_policy *pol,
				   struct oci_entitlements *e, const char *field);
/* linux.resources bounded by e->policy (create and update). */
void ward_oci_entitlements_resources(struct ward_oci_resources *r, struct oci_entitlements *e);
/* Parse the annotation text into a policy (exec reads it from the state). */
int ward_oci_entitlements_parse(const char *text, struct ward_policy *p, ward_error_t *err);
void ward_oci_entitlements_free(struct oci_entitlements *e);
/* Recording (entitle.c): a change, a refusal (prefixed with the file). */
void ward_oci_note(struct oci_entitlements *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ward_oci_refuse(struct oci_entitlements *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* entitle_fs.c: root.path, mounts, masked and read-only paths. */
void ward_oci_entitle_fs(struct ward_oci_config *c, const char *id, struct oci_entitlements *e);
/* ward's own masked and read-only paths (spec.c): the floor under the
 * entitlements, and what `spec` writes. */
extern const char *const ward_oci_masked_paths[];
extern const char *const ward_oci_readonly_paths[];

/* ---- user namespaces (userns.c) ---- */

/* The first host id of OCI pool slot N. */
uint32_t ward_oci_pool_base(unsigned slot);
/* Take a free slot for container id (leased to this process for now). */
int ward_oci_pool_take(const char *id, const char *state_dir, unsigned *slot, ward_error_t *err);
/* Hand the lease to the container's init. */
int ward_oci_pool_hold(unsigned slot, pid_t init, const char *state_dir, ward_error_t *err);
/* Give the slot back, if the lease is still this container's. */
void ward_oci_pool_release(unsigned slot, const char *state_dir);

/* ---- the container being built (runtime.c, init.c, rootfs.c) ---- */

struct oci_join {
	int type; /* CLONE_NEW* */
	int fd;
};

struct oci_container {
	const struct ward_oci_opts *o;
	struct ward_oci_config *cfg;
	struct oci_entitlements ent;
	struct ward_oci_cgroup *cg;
	struct oci_seccomp sc;		  /* the config's filter */
	struct ward_seccomp_prog ward_sc; /* ward's, from the entitlements */
	struct ward_landlock_plan ll;	  /* scoping only, unless entitlements */
	bool has_ll;
	unsigned long new_ns; /* CLONE_NEW* to create */
	struct oci_join joins[8];
	size_t n_joins;
	bool run_mode;
	int sync[2];	  /* SOCK_SEQPACKET: [0] parent, [1] child */
	int fifo_fd;	  /* exec.fifo, read end (init waits on it) */
	int console_fd;	  /* connected --console-socket */
	char *state_json; /* for createContainer hooks (sent before they run) */
	/* Under the entitlements, the runtime (host root) opens every host
	 * source and makes it a detached mount tree; the init, in the
	 * container's user namespace, only attaches them (rootfs.c). */
	int root_tree; /* the rootfs, or -1 */
	int *trees;    /* one per config mount, or -1 */
	size_t n_trees;
	/* No mount namespace (chroot-style, as runc and crun): the rootfs is
	 * bound onto itself in the runtime's mount namespace, the config's
	 * mounts are made beneath it, the init chroots into it; delete
	 * detaches the bind, and everything beneath it, again. */
	bool chroot_style;
	uint64_t root_mnt_id; /* the rootfs's mount before the bind */
	int notify_fd;	      /* init: connected to listenerPath, or -1 */
	char *notify_msg;     /* init: what goes with the listener */
	bool pool_held;	      /* a uid range of the OCI pool is leased */
	bool pod_member;      /* joined its pod sandbox's user namespace (pod.c) */
	int pod_slot;	      /* the sandbox's pool slot, or -1 */
	unsigned pool_slot;
};

/* Messages on the sync socket: one byte, 'E' followed by status and text. */
#define SYNC_MAPS     'M' /* parent -> child: id maps written */
#define SYNC_CGROUP   'G' /* parent -> child: in the cgroup */
#define SYNC_HOOKS    'H' /* child -> parent: run prestart/createRuntime now */
#define SYNC_HOOKS_OK 'h' /* parent -> child: done */
#define SYNC_READY    'K' /* child -> parent: waiting for start */
#define SYNC_START    'S' /* parent -> child (run): go */
#define SYNC_PID      'P' /* stage 1 -> parent: the init's pid follows */
#define SYNC_USERNS   'U' /* stage 1 -> parent: write my maps */
#define SYNC_NOTIFY   'N' /* parent -> child: socket to listenerPath + message */
#define SYNC_ERROR    'E'

/* init.c: the container's init, from clone to execve.  Never returns. */
void ward_oci_init(struct oci_container *c, bool ns_done) __attribute__((noreturn));
/* init.c: stage 1 when namespaces must be joined first. */
void ward_oci_stage1(struct oci_container *c) __attribute__((noreturn));
/* In a child: report to the parent and _exit(status). */
void ward_oci_child_fail(int fd, int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* rootfs.c, in the runtime: the detached trees of c->ent's sources. */
int ward_oci_rootfs_trees(struct oci_container *c, ward_error_t *err);
/* rootfs.c, in the init (new mount namespace, still seeing the host). */
int ward_oci_rootfs_prepare(struct oci_container *c, ward_error_t *err);
int ward_oci_rootfs_pivot(struct oci_container *c, ward_error_t *err);
int ward_oci_rootfs_finish(struct oci_container *c, ward_error_t *err);
/* Chroot-style (no mount namespace), in the runtime. */
uint64_t ward_oci_chroot_mnt_id(const char *root);
void ward_oci_chroot_detach(const char *root, uint64_t before_id);
/* Chroot-style: Landlock keeps every filesystem access beneath the root
 * (into ll; refused without Landlock when bounding holds CAP_SYS_CHROOT). */
int ward_oci_chroot_confine(struct ward_landlock_plan *ll, bool *has_ll, uint64_t bounding,
			    const char *plan_path, ward_error_t *err);
/* Chroot-style: a filter answering chroot(2) with EPERM (into ward's slot). */
int ward_oci_chroot_filter(struct ward_seccomp_prog *out, const char *plan_path, ward_error_t *err);
/* A shared or unbindable rootfsPropagation, once the root is complete. */
int ward_oci_rootfs_propagation(struct oci_container *c, ward_error_t *err);
/* After pivot: bind the terminal onto /dev/console (if it exists). */
int ward_oci_rootfs_console(const char *slave, ward_error_t *err);

/* process.c: the credential and capability steps shared by init and exec. */
int ward_oci_caps_bounding(uint64_t bounding, ward_error_t *err);
int ward_oci_set_user(const struct ward_oci_process *p, bool setgroups_ok, ward_error_t *err);
int ward_oci_caps_final(const struct ward_oci_caps *caps, ward_error_t *err);
int ward_oci_rlimits(const struct ward_oci_process *p, ward_error_t *err);
/* chdir to cwd and check that it is beneath the root (CVE-2024-21626). */
int ward_oci_enter_cwd(const char *cwd, ward_error_t *err);
/* Find the program as execve would, with PATH from the process's env.
 * Returns the path, or NULL with *status 127/126 and the message in err. */
char *ward_oci_find_exe(const struct ward_oci_process *p, int *status, ward_error_t *err);
/* Open a pty, send the master over sock_fd, make the slave the
 * controlling terminal and stdio.  *slave_name gets its path. */
int ward_oci_setup_tty(int sock_fd, const struct ward_oci_process *p, char **slave_name,
		       ward_error_t *err);

/* Small helpers (state.c). */
char *ward_oci_now_rfc3339(void);
int ward_oci_write_pid_file(const char *path, pid_t pid, ward_error_t *err);

#endif
