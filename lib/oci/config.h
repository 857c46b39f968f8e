/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI runtime-spec config.json, parsed into plain data.
 *
 * ward_oci_config_load() is pure apart from reading the file: it checks
 * every field it uses and names it in errors ("config.json: process.args:
 * expected an array of strings").  What the runtime does with it lives in
 * runtime.c (parent side), init.c (the container's init) and rootfs.c.
 */
#ifndef WARD_OCI_CONFIG_H
#define WARD_OCI_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"

/* The runtime-spec versions ward implements. */
#define WARD_OCI_VERSION     "1.0.2"
#define WARD_OCI_VERSION_MIN "1.0.0"
#define WARD_OCI_VERSION_MAX "1.2.0"

struct ward_oci_mount {
	char *destination;
	char *type;   /* NULL when absent (a bind mount) */
	char *source; /* NULL when absent */
	char **options;
	size_t n_options;
};

struct ward_oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct ward_oci_ns {
	int type;   /* CLONE_NEW* */
	char *path; /* NULL: create a new one */
	/* pod.c: a pod sandbox's namespace, checked under the entitlements;
	 * the runtime checks the descriptor it joins is still this one. */
	bool pinned;
	dev_t dev;
	ino_t ino;
};

struct ward_oci_idmap {
	uint32_t container_id, host_id, size;
};

struct ward_oci_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	uint32_t mode; /* permission bits; 0666 when absent */
	uid_t uid;
	gid_t gid;
};

struct ward_oci_devrule {
	bool allow;
	char type;	      /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1: any */
	char access[4];	      /* subset of "rwm" */
};

struct ward_oci_hook {
	char *path;
	char **args; /* NULL-terminated; args[0] is argv[0] */
	char **env;  /* NULL-terminated */
	int timeout; /* seconds, 0: none */
};

enum ward_oci_hook_kind {
	WARD_HOOK_PRESTART,
	WARD_HOOK_CREATE_RUNTIME,
	WARD_HOOK_CREATE_CONTAINER,
	WARD_HOOK_START_CONTAINER,
	WARD_HOOK_POSTSTART,
	WARD_HOOK_POSTSTOP,
	WARD_HOOK_NKINDS,
};

struct ward_oci_hooks {
	struct ward_oci_hook *list;
	size_t n;
};

struct ward_oci_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct ward_oci_process {
	bool terminal;
	unsigned console_height, console_width;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	char *cwd;
	struct ward_oci_caps caps;
	struct ward_oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
};

struct ward_oci_throttle {
	int64_t major, minor;
	uint64_t rate;
};

struct ward_oci_weight_device {
	int64_t major, minor;
	int weight, leaf_weight; /* -1: absent */
};

struct ward_oci_kv {
	char *key, *value;
};

/* Every value has a "has_" flag: absent means "leave as the kernel has it". */
struct ward_oci_resources {
	bool has_mem_limit, has_mem_reservation, has_mem_swap, has_swappiness;
	int64_t mem_limit, mem_reservation, mem_swap; /* -1: unlimited */
	uint64_t swappiness;
	bool disable_oom_killer;

	bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_rt_runtime, has_rt_period,
		has_cpu_idle;
	uint64_t cpu_shares, cpu_period, rt_period;
	int64_t cpu_quota, rt_runtime, cpu_idle;
	char *cpus, *mems;

	bool has_pids_limit;
	int64_t pids_limit; /* <= 0: unlimited */

	int blkio_weight, blkio_leaf_weight; /* -1: absent */
	struct ward_oci_weight_device *weight_devices;
	size_t n_weight_devices;
	struct ward_oci_throttle *throttle[4]; /* read bps, write bps, read iops, write iops */
	size_t n_throttle[4];

	struct ward_oci_devrule *devices;
	size_t n_devices;

	struct ward_oci_kv *unified;
	size_t n_unified;

	struct ward_oci_kv *hugepages; /* pageSize -> limit (decimal) */
	size_t n_hugepages;

	bool has_net_classid;
	uint32_t net_classid;
	struct ward_oci_kv *net_priorities; /* interface -> priority (decimal) */
	size_t n_net_priorities;

	/* memory.kernel, memory.kernelTCP (v1 kmem files). */
	bool has_kmem, has_kmem_tcp;
	int64_t kmem, kmem_tcp; /* -1: unlimited */
};

struct ward_oci_config {
	json_t *json; /* the whole document (seccomp is compiled from it) */
	char *path;   /* for messages */
	char *bundle; /* absolute */
	char *oci_version;

	char *root_path; /* absolute (resolved against the bundle) */
	bool root_readonly;
	char *hostname, *domainname;

	bool has_process;
	struct ward_oci_process process;

	struct ward_oci_mount *mounts;
	size_t n_mounts;

	struct ward_oci_hooks hooks[WARD_HOOK_NKINDS];

	struct ward_oci_kv *annotations;
	size_t n_annotations;

	/* linux */
	struct ward_oci_ns *namespaces;
	size_t n_namespaces;
	struct ward_oci_idmap *uid_maps, *gid_maps;
	size_t n_uid_maps, n_gid_maps;
	struct ward_oci_device *devices;
	size_t n_devices;
	bool has_resources;
	struct ward_oci_resources resources;
	char *cgroups_path;
	struct ward_oci_kv *sysctl;
	size_t n_sysctl;
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	unsigned long rootfs_propagation; /* MS_* or 0 */
	json_t *seccomp;		  /* borrowed from json, or NULL */
	bool has_personality;
	unsigned long personality;
};

/* Read and check BUNDLE/config.json.  bundle NULL means the current directory. */
int ward_oci_config_load(const char *bundle, struct ward_oci_config *c, ward_error_t *err);
/* The same from text (the fuzz target); bundle as for ward_oci_config_load. */
int ward_oci_config_parse(const char *text, size_t len, const char *bundle,
			  struct ward_oci_config *c, ward_error_t *err);
/* Parse a "process" object (exec --process FILE); name is used in messages. */
int ward_oci_process_parse(json_t *j, const char *name, struct ward_oci_process *p,
			   ward_error_t *err);
void ward_oci_process_free(struct ward_oci_process *p);
void ward_oci_config_free(struct ward_oci_config *c);
/* linux.resources alone (`update --resources`); file names it in messages. */
int ward_oci_resources_parse(json_t *res, const char *file, struct ward_oci_resources *r,
			     ward_error_t *err);
void ward_oci_resources_free(struct ward_oci_resources *r);

/* Lookups. */
const char *ward_oci_annotation(const struct ward_oci_config *c, const char *key);
/* The namespace entry of a CLONE_NEW* type, or NULL when the config has none. */
const struct ward_oci_ns *ward_oci_ns_find(const struct ward_oci_config *c, int type);
const char *ward_oci_ns_name(int type); /* "pid", "network", ... */
int ward_oci_ns_type(const char *name); /* -1 when unknown */
int ward_oci_rlimit_from_name(const char *name);
const char *ward_oci_rlimit_name(int resource);

/* Mount options: flags to set and clear, propagation, and the data string.
 * Unknown options are passed to the filesystem as data. */
struct ward_oci_mount_flags {
	unsigned long set, clear;  /* MS_* */
	unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE (| MS_REC) or 0 */
	bool bind, rbind;
	bool idmap;
	/* runtime-spec 1.1's recursive options (rro, rnosuid, ratime, ...):
	 * MOUNT_ATTR_* set and cleared on the whole tree (AT_RECURSIVE). */
	uint64_t rset, rclear;
	char *data; /* comma separated, or NULL */
};
void ward_oci_mount_flags_parse(const struct ward_oci_mount *m, struct ward_oci_mount_flags *f);
void ward_oci_mount_flags_free(struct ward_oci_mount_flags *f);
/* The option words ward understands, NULL-terminated (for `features`). */
extern const char *const ward_oci_mount_option_names[];

/* Is this "a.b.c" version one ward can run?  (major 1, minor <= 2) */
bool ward_oci_version_ok(const char *v);

#endif
