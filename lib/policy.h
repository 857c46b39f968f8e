/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resolved policy: a plain data structure.
 *
 * entitlements text -> ward_parse_*() -> ward_resolve() -> struct ward_policy
 * -> one applier per layer (ns, mount, caps, landlock, seccomp, cgroup, rlimit).
 *
 * ward_resolve() is pure: it depends only on its input list and on the
 * entitlement table, so it can be unit tested without root.
 */
#ifndef WARD_POLICY_H
#define WARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Layers, in the order ward_explain prints them. */
enum ward_layer {
	WARD_LAYER_NS,	     /* namespaces */
	WARD_LAYER_IDENTITY, /* uid/gid maps, unprivileged host identity */
	WARD_LAYER_MOUNT,    /* filesystem view */
	WARD_LAYER_CAPS,     /* capability sets, securebits */
	WARD_LAYER_NNP,	     /* no_new_privs */
	WARD_LAYER_SECCOMP,  /* syscall filter */
	WARD_LAYER_LANDLOCK, /* LSM */
	WARD_LAYER_NFT,	     /* nftables: inside the sandbox's network namespace and on the host */
	WARD_LAYER_CGROUP,   /* pids, memory, cpu */
	WARD_LAYER_RLIMIT,   /* rlimits */
	WARD_LAYER_PROCESS,  /* environment, fds, session, parent death */
	WARD_LAYER_COUNT
};

const char *ward_layer_name(enum ward_layer layer);

enum ward_net_mode {
	WARD_NET_NONE = 0, /* own netns, loopback down-or-up, AF_UNIX only */
	WARD_NET_LOOPBACK, /* own netns with lo up, AF_INET/AF_INET6 allowed */
	WARD_NET_HOST,	   /* host network namespace (dangerous) */
	WARD_NET_OUTBOUND, /* own netns, veth into ward0, NAT (lib/net/net.c) */
	WARD_NET_PORTS,	   /* own netns, veth into ward0, only network.connect/listen */
};

/* Does the sandbox get a veth into ward0 (lib/net/net.c)? */
#define WARD_NET_HAS_VETH(p) ((p)->net == WARD_NET_OUTBOUND || (p)->net == WARD_NET_PORTS)

/* network.connect=HOST:PORT and network.listen=PORT. */
struct ward_net_rule {
	bool listen;   /* network.listen=PORT; otherwise network.connect=HOST:PORT */
	char *host;    /* connect: as written, lower case (IPv4 address or name); else NULL */
	uint16_t port; /* 1..65535 */
	char *origin;  /* "app.ent:3" or "--allow" */
};

enum ward_level {
	WARD_LEVEL_CONFINED = 0, /* no capabilities, strict syscall filter */
	WARD_LEVEL_USER,	 /* Docker-default capabilities and syscall profile */
	WARD_LEVEL_ADMIN,	 /* CAP_SYS_ADMIN and mount in its own namespaces */
};

/* Access bits for path grants. */
#define WARD_FS_READ  0x1u
#define WARD_FS_WRITE 0x2u
#define WARD_FS_EXEC  0x4u

struct ward_path_grant {
	char *path;	 /* absolute, lexically normalised, no ".." */
	unsigned access; /* WARD_FS_* (write implies read) */
	char *origin;	 /* where it was granted: "app.ent:3" or "--allow" */
};

/* host.devices.admin's device classes (docs/engines.md). */
#define WARD_DEVADMIN_FUSE 0x1u /* /dev/fuse, c 10:229 */
#define WARD_DEVADMIN_TUN  0x2u /* /dev/net/tun, c 10:200 */

struct ward_device_grant {
	char *path; /* absolute path of a device node under /dev */
	char *origin;
};

/* ipc.*, service.* and api.open: what the broker lets the environment ask
 * for (lib/broker/).  Names are [a-z0-9._-]+, optionally ending in '*'. */
enum ward_broker_kind {
	WARD_BROKER_SEND,    /* ipc.send=NAME */
	WARD_BROKER_RECV,    /* ipc.recv (no name) */
	WARD_BROKER_CONNECT, /* service.connect=NAME */
	WARD_BROKER_PROVIDE, /* service.provide=NAME */
	WARD_BROKER_OPEN,    /* api.open=PATH[:ro|rw] */
	WARD_BROKER_ATTEST,  /* api.attest (no name) */
};

struct ward_broker_grant {
	enum ward_broker_kind kind;
	char *name; /* mailbox or service name or pattern; api.open: the path; NULL for ipc.recv */
	bool write; /* api.open: rw */
	char *origin; /* "app.ent:3" or "--allow" */
};

/* One granted entitlement as the user wrote it (after normalisation). */
struct ward_grant {
	int def;      /* index into the entitlement table */
	char *value;  /* NULL when the entitlement takes no value */
	char *origin; /* "app.ent:3", "--allow", or "default" */
};

/* Namespace bits (CLONE_NEW* values) kept as plain unsigned to stay pure. */
struct ward_policy {
	/* Every entitlement in force, including the defaults that applied. */
	struct ward_grant *grants;
	size_t n_grants;

	enum ward_net_mode net;
	enum ward_level level;

	/* namespaces: CLONE_NEW* flags to create */
	unsigned long namespaces;

	/* process.* */
	bool debug;  /* process.debug: ptrace inside the sandbox */
	bool setuid; /* process.setuid: no_new_privs is not set */

	/* network.admin: CAP_NET_ADMIN and CAP_NET_RAW in a network namespace
	 * that the program's own user namespace owns (docs/engines.md): the
	 * program is cloned into a new one, the veth (if any) is moved there,
	 * and its /proc/sys/net is writable. */
	bool net_admin;

	/* host.* */
	bool host_time; /* host.time: CAP_SYS_TIME, clock syscalls */
	/* host.devices.admin: WARD_DEVADMIN_* classes granted; their nodes are
	 * in devices[] too, so every device layer treats them as host.devices
	 * grants. */
	unsigned dev_admin;
	struct ward_device_grant *devices;
	size_t n_devices;

	/* fs.* */
	struct ward_path_grant *paths;
	size_t n_paths;

	/* network.connect and network.listen, sorted (listen rules last), unique.
	 * net_lo_open: network.loopback was granted with them, so traffic on
	 * the sandbox's own loopback is not filtered. */
	struct ward_net_rule *net_rules;
	size_t n_net_rules;
	bool net_lo_open;

	/* ipc.*, service.*, api.open: checked by the broker, sorted by kind, name */
	struct ward_broker_grant *broker;
	size_t n_broker;

	/* Resources.  Every one is finite. */
	uint64_t pids_max;	/* process.limit */
	uint64_t memory_max;	/* memory.limit, bytes */
	uint64_t cpu_quota_us;	/* cpu.limit: quota per period */
	uint64_t cpu_period_us; /* cpu.limit: period (100000) */
	uint64_t nofile;	/* files.limit: RLIMIT_NOFILE soft and hard */

	/* Capabilities kept in bounding/permitted/effective/inheritable/ambient. */
	uint64_t caps;
	bool no_new_privs;

	/* Syscall filter inputs (see seccomp/profile.c). */
	uint64_t socket_families; /* bit N set: socket(AF=N) allowed */
	bool allow_ns_clone;	  /* clone/unshare with CLONE_NEW* flags allowed */

	/*
	 * May the program execute what it wrote into its scratch space?  The
	 * resolver sets it (the default: yes, as under Docker, Flatpak and
	 * PrivateTmp); fs.scratch.noexec clears it.  A zeroed policy means
	 * no, failing closed.  It governs every scratch place: memfds
	 * (false: vm.memfd_noexec=2 in the sandbox's pid namespace, and the
	 * filter refuses memfd_create(MFD_EXEC)) and the private /tmp and
	 * /dev/shm (false: mounted noexec, no Landlock EXECUTE).  fs.write
	 * grants are never executable; anonymous memory mapped PROT_EXEC
	 * stays possible either way (JIT compilers need it).
	 */
	bool scratch_exec;
};

/* Defaults for resources (documented in docs/entitlements.md). */
#define WARD_DEFAULT_PIDS_MAX	1024u
#define WARD_DEFAULT_NOFILE	1024u
#define WARD_DEFAULT_CPU_PERIOD 100000u

void ward_policy_free(struct ward_policy *p);

/* Is an entitlement (by name, value-less lookup) in force? */
const struct ward_grant *ward_policy_find(const struct ward_policy *p, const char *name);

#endif
