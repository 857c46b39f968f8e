/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The LSM layer: Landlock, best effort by ABI.
 *
 * The plan (pure) says which access rights ward wants the kernel to handle
 * and which paths of the sandbox view get which rights.  It starts from the
 * newest ABI ward knows and removes, with a fall-through switch keyed on the
 * kernel's ABI, what an older kernel lacks, recording each removal so that
 * `ward explain` can say in words which guarantee is missing.
 *
 * The applier runs in the sandboxed child after pivot_root (the paths are
 * those of the sandbox's view), after no_new_privs, ids and the bounding set,
 * before seccomp: the filter may deny the landlock syscalls to the program,
 * so they must be done by then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "landlock.h"
#include "util.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef LANDLOCK_RULE_PATH_BENEATH
#define LANDLOCK_RULE_PATH_BENEATH 1
#endif
#define LL_RULE_NET_PORT 2 /* LANDLOCK_RULE_NET_PORT, ABI 4 */

/* struct landlock_net_port_attr (ABI 4), which older headers lack. */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

/*
 * struct landlock_ruleset_attr as of ABI 6.  The installed header may only
 * know handled_access_fs, so ward keeps its own copy of the layout.  The
 * kernel takes the size as an argument and accepts a shorter struct from an
 * older program; apply() passes only the part the running ABI knows.
 */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;  /* ABI 1 */
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

#define LL_FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_FS_RX   (LL_FS_READ | LANDLOCK_ACCESS_FS_EXECUTE)

/*
 * What a normal read-write directory needs: read, write, create and remove
 * files, directories, symlinks, fifos and sockets, truncate, move between
 * directories.  Never MAKE_CHAR or MAKE_BLOCK: a device node made inside the
 * sandbox would be a way to the host's devices.  No EXECUTE: running a file
 * the program wrote into a fs.write grant needs fs.exec (the scratch space
 * gets EXECUTE separately, unless fs.scratch.noexec).
 */
#define LL_FS_RW_DIR                                                                             \
	(LL_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |            \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                          \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | \
	 LANDLOCK_ACCESS_FS_TRUNCATE)

/*
 * Device nodes: read, write, ioctl.  TRUNCATE too, because the shell's
 * "> /dev/null" opens with O_TRUNC and Landlock (ABI 3+) checks O_TRUNC as
 * truncation; on a device node it truncates nothing.
 */
#define LL_FS_DEV                                                       \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The only rights the kernel accepts on a rule for a non-directory (else EINVAL). */
#define LL_FS_FILE                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Every filesystem right up to ABI 5 (bits 0..15). */
#define LL_FS_ALL ((LANDLOCK_ACCESS_FS_IOCTL_DEV << 1) - 1)

#define LL_NET_TCP   (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP)
#define LL_SCOPE_ALL (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL)

/*
 * ward's own view of the sandbox (built by the launcher, the same paths with
 * --rootfs).  Landlock rules cover the whole tree beneath their path, so "/"
 * gets READ_DIR only: READ_FILE there would open every file of the view.
 * Path resolution itself (walking through "/" to reach /usr) needs no right.
 */
static const struct {
	const char *path;
	uint64_t access;
} view_rules[] = {
	{"/", LANDLOCK_ACCESS_FS_READ_DIR},
	/* Host system directories, bound read-only by the launcher. */
	{"/usr", LL_FS_RX},
	{"/bin", LL_FS_RX},
	{"/sbin", LL_FS_RX},
	{"/lib", LL_FS_RX},
	{"/lib32", LL_FS_RX},
	{"/lib64", LL_FS_RX},
	{"/libx32", LL_FS_RX},
	{"/etc", LL_FS_RX},
	/* Private, writable scratch space. */
	{"/tmp", LL_FS_RW_DIR},
	{"/dev/shm", LL_FS_RW_DIR},
	/* The minimal /dev: list it, use the harmless nodes and terminals. */
	{"/dev", LANDLOCK_ACCESS_FS_READ_DIR},
	{"/dev/null", LL_FS_DEV},
	{"/dev/zero", LL_FS_DEV},
	{"/dev/full", LL_FS_DEV},
	{"/dev/random", LL_FS_DEV},
	{"/dev/urandom", LL_FS_DEV},
	{"/dev/tty", LL_FS_DEV},
	{"/dev/ptmx", LL_FS_DEV},
	{"/dev/pts", LL_FS_DEV | LANDLOCK_ACCESS_FS_READ_DIR},
	/*
	 * Programs write /proc/self/comm, /proc/self/oom_score_adj,
	 * /proc/self/attr/...; "echo x > /proc/self/comm" uses O_TRUNC.  /proc/sys
	 * and the dangerous files are read-only or masked by the mount layer.
	 */
	{"/proc", LL_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE},
	{"/sys", LL_FS_READ},
};

int ward_landlock_abi(void)
{
	long abi;

	/*
	 * ENOSYS: built without Landlock; EOPNOTSUPP: built in but not enabled
	 * at boot (lsm=).  Both mean "no Landlock here".
	 */
	abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return 0;
	return (int)abi;
}

static void plan_add(struct ward_landlock_plan *plan, const char *path, uint64_t access,
		     char *origin)
{
	struct ward_ll_path_rule *r;
	size_t i;

	/*
	 * One rule per path: a second grant of the same path (fs.write=/tmp
	 * on top of ward's own /tmp) adds its rights to the first.  The
	 * kernel would merge two rules on one inode the same way.
	 */
	for (i = 0; i < plan->n_rules; i++) {
		r = &plan->rules[i];
		if (strcmp(r->path, path) != 0)
			continue;
		r->access |= access;
		if (r->origin == NULL)
			r->origin = origin;
		else
			free(origin);
		return;
	}
	plan->rules = ward_xrealloc(plan->rules, (plan->n_rules + 1) * sizeof(*plan->rules));
	r = &plan->rules[plan->n_rules++];
	r->path = ward_xstrdup(path);
	r->access = access;
	r->origin = origin;
}

static const char *path_grant_name(unsigned access)
{
	if (access & WARD_FS_WRITE)
		return "fs.write";
	if (access & WARD_FS_EXEC)
		return "fs.exec";
	return "fs.read";
}

void ward_landlock_plan(const struct ward_policy *p, int abi, struct ward_landlock_plan *out)
{
	uint64_t fs = LL_FS_ALL, net = 0, scoped = LL_SCOPE_ALL;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (abi <= 0) {
		out->missing = WARD_LL_MISSING_ALL;
		return;
	}
	/*
	 * A Landlock-restricted process can never change its mount topology
	 * (mount, umount, pivot_root all fail), and security.admin exists to
	 * mount inside its own namespaces.  So that policy gets no Landlock
	 * domain, and says so at every run and in `ward explain`.
	 */
	if (p->level == WARD_LEVEL_ADMIN) {
		out->missing = WARD_LL_MISSING_ADMIN;
		return;
	}
	out->abi = abi;

	/*
	 * Under network.none, handle TCP bind and connect and add no port
	 * rule: every TCP bind/connect is denied.  Under network.loopback or
	 * network.host the network is not handled at all: Landlock cannot say
	 * "loopback only" (its rules are ports, not addresses); the network
	 * namespace does that job.
	 */
	if (p->net == WARD_NET_NONE)
		net = LL_NET_TCP;
	/*
	 * network.connect/listen: TCP connect only to the granted ports and
	 * bind only to the listened ones (the nftables rules add the
	 * addresses).  With network.loopback too, anything may happen on the
	 * sandbox's own loopback, which ports cannot express: not handled.
	 * Under network.outbound connect is open; bind is still limited to the
	 * listen ports when there are any.
	 */
	if (p->net == WARD_NET_PORTS && !p->net_lo_open)
		net = LL_NET_TCP;
	else if (p->net == WARD_NET_OUTBOUND && p->n_net_rules)
		net = LANDLOCK_ACCESS_NET_BIND_TCP;

	/*
	 * Remove what the kernel lacks (the kernel sample's approach): the
	 * case for the kernel's ABI removes the feature the next ABI added,
	 * then falls through to remove every newer one.
	 */
	switch (abi) {
	case 1:
		/*
		 * ABI 1 cannot grant REFER: moving or linking a file to
		 * another directory always fails with EXDEV.  Stricter, not
		 * weaker, but programs notice.
		 */
		fs &= ~LANDLOCK_ACCESS_FS_REFER;
		out->missing |= WARD_LL_MISSING_REFER;
		__attribute__((fallthrough));
	case 2:
		fs &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
		out->missing |= WARD_LL_MISSING_TRUNCATE;
		__attribute__((fallthrough));
	case 3:
		if (net)
			out->missing |= WARD_LL_MISSING_NET;
		net = 0;
		__attribute__((fallthrough));
	case 4:
		fs &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
		out->missing |= WARD_LL_MISSING_IOCTL;
		__attribute__((fallthrough));
	case 5:
		scoped = 0;
		out->missing |= WARD_LL_MISSING_SCOPE;
		__attribute__((fallthrough));
	case 6:
		/* ABI 7 adds the audit logging flags: without them the kernel
		 * logs only the launcher's own denials, never the program's. */
		break;
	case WARD_LL_ABI_KNOWN:
	default:
		/* Newer than ward knows: everything ward asks for exists.
		 * The program's denials (after its execve) go to the audit
		 * subsystem, where the supervisor explains them
		 * (lib/denials/audit.c); the launcher's own do not. */
		out->restrict_flags = LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF |
				      LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
		break;
	}
	out->handled_fs = fs;
	out->handled_net = net;
	out->scoped = scoped;

	for (i = 0; net && i < p->n_net_rules; i++) {
		const struct ward_net_rule *r = &p->net_rules[i];
		uint64_t a =
			r->listen ? LANDLOCK_ACCESS_NET_BIND_TCP : LANDLOCK_ACCESS_NET_CONNECT_TCP;

		if (!(net & a))
			continue;
		for (j = 0; j < out->n_ports; j++)
			if (out->ports[j].port == r->port && out->ports[j].access == a)
				break;
		if (j < out->n_ports)
			continue;
		out->ports = ward_xrealloc(out->ports, (out->n_ports + 1) * sizeof(*out->ports));
		out->ports[out->n_ports].port = r->port;
		out->ports[out->n_ports].access = a;
		out->n_ports++;
	}

	for (i = 0; i < ARRAY_SIZE(view_rules); i++)
		plan_add(out, view_rules[i].path, view_rules[i].access, NULL);
	/* The scratch space runs what the program wrote there unless
	 * fs.scratch.noexec; /tmp only while it is the private one (host.tmp
	 * binds the host's /tmp, never executable). */
	if (p->scratch_exec) {
		bool host_tmp = false;

		for (i = 0; i < p->n_paths; i++)
			host_tmp |= strcmp(p->paths[i].path, "/tmp") == 0;
		if (!host_tmp)
			plan_add(out, "/tmp", LANDLOCK_ACCESS_FS_EXECUTE, NULL);
		plan_add(out, "/dev/shm", LANDLOCK_ACCESS_FS_EXECUTE, NULL);
	}

	for (i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];
		uint64_t access = LL_FS_READ;

		if (g->access & WARD_FS_WRITE)
			access |= LL_FS_RW_DIR;
		if (g->access & WARD_FS_EXEC)
			access |= LANDLOCK_ACCESS_FS_EXECUTE;
		plan_add(out, g->path, access,
			 ward_xasprintf("%s=%s (%s)", path_grant_name(g->access), g->path,
					g->origin ? g->origin : "policy"));
	}

	/*
	 * A granted device: read, write, ioctl, O_TRUNC; READ_DIR as well so
	 * that a granted directory of nodes (/dev/dri) can be listed.  apply()
	 * keeps only the file rights when the path is a node.
	 */
	for (i = 0; i < p->n_devices; i++) {
		const struct ward_device_grant *d = &p->devices[i];

		plan_add(out, d->path, LL_FS_DEV | LANDLOCK_ACCESS_FS_READ_DIR,
			 ward_xasprintf("host.devices=%s (%s)", d->path,
					d->origin ? d->origin : "policy"));
	}

	/* Strip from every rule what the ABI cannot handle (add_rule says EINVAL otherwise). */
	for (i = j = 0; i < out->n_rules; i++) {
		out->rules[i].access &= fs;
		if (out->rules[i].access == 0) {
			free(out->rules[i].path);
			free(out->rules[i].origin);
			continue;
		}
		out->rules[j++] = out->rules[i];
	}
	out->n_rules = j;
}

void ward_landlock_plan_add_system(struct ward_landlock_plan *plan, const char *path)
{
	/* Read and execute are in every ABI, so nothing needs masking. */
	if (plan->abi <= 0)
		return;
	plan_add(plan, path, LL_FS_RX & plan->handled_fs, NULL);
}

void ward_landlock_plan_free(struct ward_landlock_plan *plan)
{
	size_t i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->n_rules; i++) {
		free(plan->rules[i].path);
		free(plan->rules[i].origin);
	}
	free(plan->rules);
	free(plan->ports);
	memset(plan, 0, sizeof(*plan));
}

static const struct {
	unsigned bit;
	const char *text;
} missing_texts[] = {
	{WARD_LL_MISSING_ALL,
	 "Landlock is not available (kernel without Landlock, or not enabled at boot): "
	 "no LSM layer; files are confined by the mount view alone, the network by the "
	 "network namespace and the syscall filter"},
	{WARD_LL_MISSING_REFER,
	 "Landlock ABI < 2: moving or linking a file into another directory fails with EXDEV "
	 "everywhere (Landlock ABI 1 cannot grant it)"},
	{WARD_LL_MISSING_TRUNCATE,
	 "Landlock ABI < 3: truncate(2) and open(O_TRUNC) are not restricted by Landlock "
	 "(read-only mounts still refuse them)"},
	{WARD_LL_MISSING_NET,
	 "Landlock ABI < 4: TCP bind/connect are not restricted by Landlock (network.none "
	 "still holds through the network namespace and the syscall filter)"},
	{WARD_LL_MISSING_IOCTL,
	 "Landlock ABI < 5: ioctl(2) on device files is not restricted by Landlock (/dev "
	 "holds only the granted nodes; the syscall filter still denies TIOCSTI)"},
	{WARD_LL_MISSING_SCOPE,
	 "Landlock ABI < 6: abstract UNIX sockets and signals outside the sandbox are not "
	 "scoped by Landlock (the network and pid namespaces still separate them, unless "
	 "network.host or process.host)"},
	{WARD_LL_MISSING_ADMIN,
	 "security.admin: Landlock is not applied, because a Landlock-restricted process can "
	 "never mount (the view, the syscall filter and the namespaces still confine it)"},
};

char *ward_landlock_missing_text(unsigned missing)
{
	char *text = NULL, *next;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(missing_texts); i++) {
		if (!(missing & missing_texts[i].bit))
			continue;
		if (text == NULL) {
			text = ward_xstrdup(missing_texts[i].text);
			continue;
		}
		next = ward_xasprintf("%s\n%s", text, missing_texts[i].text);
		free(text);
		text = next;
	}
	return text;
}

/*
 * Open a rule's path without following any symbolic link, in any component.
 * A rule is attached to the inode it names and covers everything beneath it:
 * following a link planted in a writable, persistent directory (fs.write=/data
 * holding data/sub -> /) would turn "fs.read=/data/sub" into a grant of "/".
 */
static int open_rule_path(const char *path)
{
	return ward_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
}

static int add_path_rule(int ruleset_fd, const struct ward_ll_path_rule *r, ward_error_t *err)
{
	struct landlock_path_beneath_attr attr;
	cleanup_close int fd = -1;
	struct stat st;

	fd = open_rule_path(r->path);
	if (fd < 0) {
		/*
		 * ward's own view differs between hosts and root filesystems
		 * (no /lib32; /lib64 a link to usr/lib64 on merged-/usr
		 * systems, which the /usr rule covers; /dev/ptmx a link to
		 * pts/ptmx, which the /dev/pts rule covers): skip what is not
		 * there as a real directory or file.
		 */
		if (r->origin == NULL && (errno == ENOENT || errno == ELOOP || errno == ENOTDIR))
			return 0;
		if (errno == ENOENT || errno == ENOTDIR)
			return ward_error_set(err, errno,
					      "%s: %s does not exist in the sandbox's view",
					      r->origin, r->path);
		if (errno == ELOOP)
			return ward_error_set(
				err, errno,
				"%s: %s goes through a symbolic link in the sandbox's "
				"view; Landlock rules need the real path: grant the "
				"link's target instead",
				r->origin, r->path);
		return ward_error_sys(err, "Landlock: opening %s%s%s", r->path,
				      r->origin ? " for " : "", r->origin ? r->origin : "");
	}
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "Landlock: fstat %s", r->path);

	memset(&attr, 0, sizeof(attr));
	attr.parent_fd = fd;
	attr.allowed_access = r->access;
	/* A rule on a non-directory may only carry the rights that apply to a file. */
	if (!S_ISDIR(st.st_mode))
		attr.allowed_access &= LL_FS_FILE;
	if (attr.allowed_access == 0)
		return 0;
	if (syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
		return ward_error_sys(err,
				      "Landlock: landlock_add_rule for %s (access 0x%" PRIx64 ")",
				      r->path, (uint64_t)attr.allowed_access);
	return 0;
}

int ward_landlock_apply(const struct ward_landlock_plan *plan, ward_error_t *err)
{
	struct ll_ruleset_attr attr;
	cleanup_close int ruleset_fd = -1;
	size_t size, i;

	if (plan->abi <= 0)
		return ward_error_set(err, EOPNOTSUPP,
				      "Landlock is not available (kernel without Landlock, or not "
				      "enabled at boot)");

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = plan->handled_fs;
	attr.handled_access_net = plan->handled_net;
	attr.scoped = plan->scoped;
	/*
	 * Pass only the fields the plan's ABI knows.  The kernel would take
	 * the longer struct with zero tail bytes too, but the shorter one
	 * keeps the call meaningful on any kernel the plan was made for.
	 */
	if (plan->abi < 4)
		size = offsetof(struct ll_ruleset_attr, handled_access_net);
	else if (plan->abi < 6)
		size = offsetof(struct ll_ruleset_attr, scoped);
	else
		size = sizeof(attr);

	ruleset_fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (ruleset_fd < 0)
		return ward_error_sys(err,
				      "Landlock: landlock_create_ruleset (ABI %d, fs 0x%" PRIx64
				      ", net 0x%" PRIx64 ", scoped 0x%" PRIx64 ")",
				      plan->abi, plan->handled_fs, plan->handled_net, plan->scoped);

	for (i = 0; i < plan->n_rules; i++)
		if (add_path_rule(ruleset_fd, &plan->rules[i], err) < 0)
			return -1;

	for (i = 0; i < plan->n_ports; i++) {
		struct ll_net_port_attr pa = {
			.allowed_access = plan->ports[i].access & plan->handled_net,
			.port = plan->ports[i].port,
		};

		if (pa.allowed_access == 0)
			continue;
		if (syscall(__NR_landlock_add_rule, ruleset_fd, LL_RULE_NET_PORT, &pa, 0) < 0)
			return ward_error_sys(
				err, "Landlock: cannot add the TCP %s rule for port %u",
				plan->ports[i].access == LANDLOCK_ACCESS_NET_BIND_TCP ? "bind"
										      : "connect",
				plan->ports[i].port);
	}

	/*
	 * Port rules only for network.connect/listen: under network.none every
	 * TCP bind and connect is denied; otherwise TCP is not handled.
	 *
	 * landlock_restrict_self needs no_new_privs, or CAP_SYS_ADMIN in the
	 * current user namespace (process.setuid runs without no_new_privs;
	 * ward_caps_drop_bounding() leaves the effective set for this).  The
	 * domain is inherited by every child and survives execve.
	 */
	if (syscall(__NR_landlock_restrict_self, ruleset_fd, plan->restrict_flags) < 0) {
		if (errno == EPERM)
			return ward_error_sys(err, "Landlock: landlock_restrict_self (needs "
						   "no_new_privs or CAP_SYS_ADMIN)");
		return ward_error_sys(err, "Landlock: landlock_restrict_self");
	}
	return 0;
}
