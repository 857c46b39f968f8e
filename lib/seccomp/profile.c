/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The syscall profile compiler: struct ward_policy -> the exact rule list.
 *
 * Pure: the result depends only on the policy, the syscall groups
 * (groups.c), the entitlement table and libseccomp's syscall name table.
 * It is sorted into a canonical order, so one policy always gives the same
 * bytes to hash, whatever order the entitlements were written in.
 *
 * Two properties the rest of ward relies on:
 *
 *  - Every syscall ward knows and denies gets EPERM; a syscall the profile
 *    does not know gets the default, ENOSYS, so that libc falls back to an
 *    older call (glibc does so for clone3, which gets ENOSYS explicitly
 *    because its flags live in memory where a filter cannot look).
 *
 *  - The rules of one syscall never overlap.  libseccomp does not define
 *    which of two overlapping rules with different actions wins; 2.5.4 in
 *    fact drops a conditional ERRNO rule silently as soon as the same
 *    syscall has an unconditional ALLOW rule (tested: ioctl with an ERRNO
 *    rule for TIOCSTI plus an ALLOW rule compiles to "ioctl: ALLOW").  So
 *    "allow everything except X" is written as X -> EPERM plus ALLOW rules
 *    for a partition of the complement of X (complement() below).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/personality.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../entitlements.h"
#include "../util.h"
#include "groups.h"
#include "seccomp.h"

/*
 * Namespace flags that clone(2) and unshare(2) must not carry unless the
 * policy allows namespaces (security.admin).  CLONE_NEWTIME is only valid
 * for unshare and clone3: for clone its bit (0x80) is part of the exit
 * signal (CSIGNAL).
 */
#define NS_CLONE_FLAGS                                                                         \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		    CLONE_NEWNET | CLONE_NEWCGROUP))
#define NS_UNSHARE_FLAGS (NS_CLONE_FLAGS | (uint64_t)CLONE_NEWTIME)

/*
 * The kernel reads ioctl's cmd, personality's persona and socket's family
 * as 32-bit ints (the syscall wrappers truncate the 64-bit register), so
 * they are compared on the low 32 bits only.  Comparing all 64 bits would
 * let a caller pass TIOCSTI | 1 << 32: the filter would see "not TIOCSTI",
 * the kernel would see TIOCSTI.
 */
#define LOW32 0xffffffffULL

/* personality(2) values that are allowed, as in Docker's default profile:
 * PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query. */
static const uint64_t personality_ok[] = {
	PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32 | UNAME26, 0xffffffffULL,
};

/* ioctls that nothing grants: pushing input into a terminal (TIOCSTI) and
 * the console's selection and paste (TIOCLINUX); both let a sandboxed
 * program type commands into the terminal it shares with its user. */
static const uint64_t ioctl_never[] = {
	TIOCSTI,
	TIOCLINUX,
};

/*
 * Nothing the sandbox writes may carry privilege outside it.  A fs.write
 * grant is an idmapped mount that makes the sandbox's root the owner of the
 * directory on the host, so a file it marks S_ISUID is set-user-ID to that
 * owner on the host (root, for a root-owned directory), whatever the
 * sandbox's own nosuid mounts say.  These calls take a mode that the kernel
 * stores: they are refused when it holds S_ISUID or S_ISGID (the anchor is
 * systemd's RestrictSUIDSGID=).  open/openat use their mode only when
 * creating (O_CREAT, or O_TMPFILE followed by linkat), so only those are
 * refused; openat2 keeps flags and mode in memory, so it gets ENOSYS and
 * libc falls back to openat.  mkdir's mode cannot carry the bits (the
 * kernel drops them), but a program asking for them is refused all the
 * same, as systemd does.  Writing into an existing set-id file clears
 * S_ISUID, and S_ISGID of a group-executable file, whoever writes (Linux
 * 6.x: setattr_should_drop_suidgid()); chown clears them too.  CAP_FSETID,
 * which would keep S_ISGID on chmod for a group the caller is not in, is
 * never granted (lib/caps.h).
 *
 * The mode is a umode_t and the flags an int for the kernel: the masks
 * below look only at the bits it reads, so high bits change nothing.
 */
#define SETID_MODE ((uint64_t)(S_ISUID | S_ISGID))
/* The kernel's __O_TMPFILE bit (glibc's __O_TMPFILE also holds O_DIRECTORY,
 * which alone must not count as creating). */
#define KERNEL_O_TMPFILE 020000000ULL
#define CREATE_FLAGS	 ((uint64_t)O_CREAT | KERNEL_O_TMPFILE)

static const char why_setid[] =
	"a set-user-ID or set-group-ID mode: nothing the sandbox writes may carry privilege on "
	"the host";
static const char why_openat2[] =
	"openat2(2) keeps its mode in memory, where the filter cannot check it; libc falls back "
	"to openat(2)";
static const char why_fcaps[] =
	"a value of the size of a file capability (20 or 24 bytes): security.admin and nested "
	"user namespaces hold CAP_SETFCAP, and security.capability on a granted file would be "
	"privileged on the host";
static const char why_uevent[] =
	"the host's device events (NETLINK_KOBJECT_UEVENT): the kernel sends them to the "
	"sandbox's network namespace, which belongs to the host's user namespace";
static const char why_mfd_exec[] =
	"an executable memfd (MFD_EXEC): nothing the program writes may be executed without an "
	"fs.exec grant";

/* Calls with a stored mode: name, index of the mode, index of the open
 * flags (-1: the call always uses its mode). */
static const struct {
	const char *syscall;
	unsigned mode_arg;
	int flags_arg;
} mode_calls[] = {
	{"chmod", 1, -1},   {"fchmod", 1, -1}, {"fchmodat", 2, -1}, {"fchmodat2", 2, -1},
	{"creat", 1, -1},   {"mknod", 1, -1},  {"mknodat", 2, -1},  {"mkdir", 1, -1},
	{"mkdirat", 2, -1}, {"open", 2, 1},    {"openat", 3, 2},
};

/* security.capability holds struct vfs_cap_data (20 bytes, revision 2) or
 * struct vfs_ns_cap_data (24 bytes, revision 3); the kernel's validheader()
 * refuses every other size for that name. */
#ifndef XATTR_CAPS_SZ_2
#define XATTR_CAPS_SZ_2 20
#endif
#ifndef XATTR_CAPS_SZ_3
#define XATTR_CAPS_SZ_3 24
#endif
static const struct {
	const char *syscall;
	unsigned size_arg;
} xattr_calls[] = {
	{"setxattr", 3},
	{"lsetxattr", 3},
	{"fsetxattr", 3},
};

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

struct builder {
	struct ward_sc_rule *v;
	size_t n, cap;
};

static struct ward_sc_rule *push(struct builder *b, const char *syscall, enum ward_sc_action action,
				 int err, const char *entitlement)
{
	struct ward_sc_rule *r;

	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 512;
		b->v = ward_xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	r = &b->v[b->n++];
	memset(r, 0, sizeof(*r));
	r->syscall = syscall;
	r->action = action;
	r->err = action == WARD_SC_ERRNO ? err : 0;
	r->entitlement = entitlement;
	return r;
}

static void push_masked(struct builder *b, const char *syscall, enum ward_sc_action action, int err,
			const char *entitlement, unsigned index, uint64_t mask, uint64_t value)
{
	struct ward_sc_rule *r = push(b, syscall, action, err, entitlement);

	r->n_args = 1;
	r->args[0].index = index;
	r->args[0].op = WARD_SC_OP_MASKED_EQ;
	r->args[0].a = mask;
	r->args[0].b = value & mask;
}

/* A condition on one argument. */
static struct ward_sc_arg cond(unsigned index, enum ward_sc_op op, uint64_t a, uint64_t b)
{
	return (struct ward_sc_arg){.index = index, .op = op, .a = a, .b = b};
}

static void push_conds(struct builder *b, const char *syscall, enum ward_sc_action action, int err,
		       const char *reason, const struct ward_sc_arg *c, unsigned n)
{
	struct ward_sc_rule *r = push(b, syscall, action, err, NULL);

	r->reason = reason;
	r->n_args = n;
	if (n) /* c may be NULL for an unconditional rule */
		memcpy(r->args, c, n * sizeof(*c));
}

/*
 * "x & mask != 0" as disjoint classes: for each bit of mask, high to low,
 * the class where that bit is set and every higher bit of mask is clear.
 * Returns the number of classes written to out[] (one per bit of mask).
 */
static size_t nonzero_classes(unsigned index, uint64_t mask, struct ward_sc_arg *out)
{
	uint64_t above = 0, rest = mask;
	size_t n = 0;

	while (rest) {
		uint64_t bit = 1ULL << (63 - __builtin_clzll(rest));

		out[n++] = cond(index, WARD_SC_OP_MASKED_EQ, above | bit, bit);
		above |= bit;
		rest &= ~bit;
	}
	return n;
}

/*
 * Emit rules matching exactly the arguments x with (x & mask) not in
 * vals[] (each already reduced by mask), as disjoint MASKED_EQ classes: a
 * walk down the binary trie of vals[] over the bits of mask, high to low,
 * that emits every subtree holding no value.  For one excluded 32-bit value
 * that is 32 rules, one per bit where x first differs from it.
 *
 * pmask/pval: the prefix fixed so far (bits of mask above the current one).
 */
static void complement(struct builder *b, const char *syscall, enum ward_sc_action action, int err,
		       const char *entitlement, unsigned index, uint64_t mask, uint64_t pmask,
		       uint64_t pval, const uint64_t *vals, size_t n)
{
	uint64_t rest = mask & ~pmask, bit;
	bool any = false;
	size_t i;

	for (i = 0; i < n && !any; i++)
		any = ((vals[i] & pmask) == pval);
	if (!any) {
		if (pmask == 0)
			push(b, syscall, action, err, entitlement);
		else
			push_masked(b, syscall, action, err, entitlement, index, pmask, pval);
		return;
	}
	if (rest == 0)
		return; /* x & mask is one of vals[] */
	bit = 1ULL << (63 - __builtin_clzll(rest));
	complement(b, syscall, action, err, entitlement, index, mask, pmask | bit, pval, vals, n);
	complement(b, syscall, action, err, entitlement, index, mask, pmask | bit, pval | bit, vals,
		   n);
}

static bool in_group(const char *const *group, const char *name)
{
	for (; *group; group++)
		if (strcmp(*group, name) == 0)
			return true;
	return false;
}

/* libseccomp knows the name on the native architecture.  Names of calls
 * that exist only on other architectures resolve to negative "pseudo
 * syscall" numbers, unknown names to __NR_SCMP_ERROR: both are skipped. */
static bool known(const char *name)
{
	return seccomp_syscall_resolve_name(name) >= 0;
}

/*
 * The entitlement named in a denial: the first entry of the table (the
 * least powerful, by the table's order) whose syscall group holds name.
 * Entitlements that are listed but not yet available are never suggested.
 */
static const char *entitlement_for_syscall(const char *name)
{
	size_t i;

	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];

		if (e->syscalls && !(e->flags & WARD_ENT_UNAVAILABLE) &&
		    in_group(e->syscalls, name))
			return e->name;
	}
	return NULL;
}

static const char *entitlement_for_group(const char *const *group)
{
	size_t i;

	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];

		if (e->syscalls == group && !(e->flags & WARD_ENT_UNAVAILABLE))
			return e->name;
	}
	return NULL;
}

static const char *entitlement_for_family(unsigned family)
{
	size_t i;

	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];

		if ((e->socket_families & (1ULL << family)) && !(e->flags & WARD_ENT_UNAVAILABLE))
			return e->name;
	}
	return NULL;
}

static bool allowed(const struct ward_policy *p, const char *name)
{
	if (in_group(ward_sc_base, name))
		return true;
	if (p->level >= WARD_LEVEL_USER && in_group(ward_sc_user, name))
		return true;
	if (p->level == WARD_LEVEL_ADMIN && in_group(ward_sc_admin, name))
		return true;
	if (p->debug && in_group(ward_sc_debug, name))
		return true;
	if (p->host_time && in_group(ward_sc_time, name))
		return true;
	return false;
}

static void add_groups(struct builder *b, const struct ward_policy *p)
{
	static const char *const *const groups[] = {
		ward_sc_base,  ward_sc_user, ward_sc_admin,
		ward_sc_debug, ward_sc_time, ward_sc_never,
	};
	const char *const *g;
	size_t i;

	/* Names that appear in several groups give identical rules here,
	 * removed after sorting. */
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		for (g = groups[i]; *g; g++) {
			if (!known(*g))
				continue;
			/* Base names need no search: they are allowed. */
			if (groups[i] == ward_sc_base || allowed(p, *g))
				push(b, *g, WARD_SC_ALLOW, 0, NULL);
			else
				push(b, *g, WARD_SC_ERRNO, EPERM, entitlement_for_syscall(*g));
		}
	}
}

/* clone and unshare: namespace flags only with allow_ns_clone.  On x86_64
 * clone's flags are its first argument (s390 swaps the first two; ward's
 * filter is built for the native architecture only). */
static void add_ns_rules(struct builder *b, const struct ward_policy *p, const char *syscall,
			 uint64_t ns_flags)
{
	static const uint64_t none[] = {0};
	const char *admin = entitlement_for_group(ward_sc_admin);

	if (p->allow_ns_clone) {
		push(b, syscall, WARD_SC_ALLOW, 0, NULL);
		return;
	}
	push_masked(b, syscall, WARD_SC_ALLOW, 0, NULL, 0, ns_flags, 0);
	complement(b, syscall, WARD_SC_ERRNO, EPERM, admin, 0, ns_flags, 0, 0, none, 1);
}

/*
 * "x & mask != v" as disjoint classes: for each bit of mask, high to low,
 * the class that agrees with v on every higher bit of mask and differs on
 * that one.  Returns the number of classes (one per bit of mask).
 */
static size_t other_than_classes(unsigned index, uint64_t mask, uint64_t v, struct ward_sc_arg *out)
{
	uint64_t above = 0, rest = mask;
	size_t n = 0;

	while (rest) {
		uint64_t bit = 1ULL << (63 - __builtin_clzll(rest));

		out[n++] = cond(index, WARD_SC_OP_MASKED_EQ, above | bit, (v & above) | (~v & bit));
		above |= bit;
		rest &= ~bit;
	}
	return n;
}

/*
 * socket(AF_NETLINK, type, NETLINK_KOBJECT_UEVENT): the sandbox's network
 * namespace belongs to the host's user namespace (init made it), and the
 * kernel broadcasts the host's device events (hotplug, device paths, USB
 * ids) to uevent sockets in every such namespace.  Nothing in a sandbox
 * needs them.  Every other netlink protocol is allowed with the family.
 */
static void add_netlink_rules(struct builder *b)
{
	struct ward_sc_arg c[2], proto[32];
	size_t i, n;

	c[0] = cond(0, WARD_SC_OP_MASKED_EQ, LOW32, AF_NETLINK);
	c[1] = cond(2, WARD_SC_OP_MASKED_EQ, LOW32, NETLINK_KOBJECT_UEVENT);
	push_conds(b, "socket", WARD_SC_ERRNO, EPERM, why_uevent, c, 2);
	n = other_than_classes(2, LOW32, NETLINK_KOBJECT_UEVENT, proto);
	for (i = 0; i < n; i++) {
		c[1] = proto[i];
		push_conds(b, "socket", WARD_SC_ALLOW, 0, NULL, c, 2);
	}
}

static void add_socket_rules(struct builder *b, const struct ward_policy *p)
{
	uint64_t families = p->socket_families | (1ULL << AF_UNIX);
	uint64_t listed[64];
	size_t n = 0;
	unsigned f;

	for (f = 0; f < 64; f++) {
		const char *ent;

		if (families & (1ULL << f) && f == AF_NETLINK) {
			add_netlink_rules(b);
			listed[n++] = f;
			continue;
		}
		if (families & (1ULL << f)) {
			push_masked(b, "socket", WARD_SC_ALLOW, 0, NULL, 0, LOW32, f);
			listed[n++] = f;
			continue;
		}
		/* A family some entitlement grants is denied by name, so that
		 * the message can say which one to grant. */
		ent = entitlement_for_family(f);
		if (ent) {
			push_masked(b, "socket", WARD_SC_ERRNO, EPERM, ent, 0, LOW32, f);
			listed[n++] = f;
		}
	}
	complement(b, "socket", WARD_SC_ERRNO, EPERM, NULL, 0, LOW32, 0, 0, listed, n);

	/* socketpair(2) makes connected pairs, which only AF_UNIX (and the
	 * exotic AF_TIPC) implement; nothing grants the others. */
	{
		static const uint64_t unix_only[] = {AF_UNIX};

		push_masked(b, "socketpair", WARD_SC_ALLOW, 0, NULL, 0, LOW32, AF_UNIX);
		complement(b, "socketpair", WARD_SC_ERRNO, EPERM, NULL, 0, LOW32, 0, 0, unix_only,
			   1);
	}
}

static void add_ioctl_rules(struct builder *b)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ioctl_never); i++)
		push_masked(b, "ioctl", WARD_SC_ERRNO, EPERM, NULL, 1, LOW32, ioctl_never[i]);
	complement(b, "ioctl", WARD_SC_ALLOW, 0, NULL, 1, LOW32, 0, 0, ioctl_never,
		   ARRAY_SIZE(ioctl_never));
}

/* personality(2): the execution domains and flags such as
 * READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE weaken the process's own
 * protections (and made kernel bugs reachable in the past); nothing grants
 * them. */
static void add_personality_rules(struct builder *b)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(personality_ok); i++)
		push_masked(b, "personality", WARD_SC_ALLOW, 0, NULL, 0, LOW32, personality_ok[i]);
	complement(b, "personality", WARD_SC_ERRNO, EPERM, NULL, 0, LOW32, 0, 0, personality_ok,
		   ARRAY_SIZE(personality_ok));
}

/*
 * The mode calls (mode_calls[]): refused when the mode holds S_ISUID or
 * S_ISGID (and, for open/openat, when the flags create a file).  Disjoint
 * classes, so no two rules of one call overlap:
 *   mode & SETID == 0                                  allow
 *   mode has a set-id bit, flags do not create         allow (open, openat)
 *   mode has a set-id bit, flags create (or no flags)  EPERM
 */
static void add_mode_rules(struct builder *b)
{
	struct ward_sc_arg setid[2], create[2];
	size_t i, n_setid, n_create, s, c;

	for (i = 0; i < ARRAY_SIZE(mode_calls); i++) {
		const char *sc = mode_calls[i].syscall;
		unsigned m = mode_calls[i].mode_arg;
		int f = mode_calls[i].flags_arg;
		struct ward_sc_arg pair[2];

		if (!known(sc))
			continue;
		pair[0] = cond(m, WARD_SC_OP_MASKED_EQ, SETID_MODE, 0);
		push_conds(b, sc, WARD_SC_ALLOW, 0, NULL, pair, 1);
		n_setid = nonzero_classes(m, SETID_MODE, setid);
		for (s = 0; s < n_setid; s++) {
			if (f < 0) {
				push_conds(b, sc, WARD_SC_ERRNO, EPERM, why_setid, &setid[s], 1);
				continue;
			}
			pair[0] = setid[s];
			pair[1] = cond((unsigned)f, WARD_SC_OP_MASKED_EQ, CREATE_FLAGS, 0);
			push_conds(b, sc, WARD_SC_ALLOW, 0, NULL, pair, 2);
			n_create = nonzero_classes((unsigned)f, CREATE_FLAGS, create);
			for (c = 0; c < n_create; c++) {
				pair[1] = create[c];
				push_conds(b, sc, WARD_SC_ERRNO, EPERM, why_setid, pair, 2);
			}
		}
	}
	/* openat2(2): struct open_how is in memory.  ENOSYS, not EPERM, so
	 * that libc and programs fall back to openat(2), which is checked. */
	if (known("openat2"))
		push_conds(b, "openat2", WARD_SC_ERRNO, ENOSYS, why_openat2, NULL, 0);
}

/*
 * set*xattr(2) when a process of the sandbox can hold CAP_SETFCAP over the
 * files of a write grant (their owner is the sandbox's root through the
 * idmapping): security.admin holds it in the sandbox's user namespace, and
 * any policy that may create user namespaces holds it in a nested one.
 * The kernel would store a file capability whose root is the directory's
 * owner on the host.  The name is in memory, so the filter refuses values
 * of the two sizes a file capability can have, whatever the name (the
 * collateral: any 20- or 24-byte extended attribute).  Otherwise no process
 * of the sandbox ever holds CAP_SETFCAP, and the calls are plainly allowed.
 */
#define CAN_SETFCAP(p) ((p)->allow_ns_clone || ((p)->caps >> CAP_SETFCAP) & 1)

static void add_xattr_rules(struct builder *b, const struct ward_policy *p)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(xattr_calls); i++) {
		const char *sc = xattr_calls[i].syscall;
		unsigned k = xattr_calls[i].size_arg;
		struct ward_sc_arg c;
		uint64_t v;

		if (!known(sc))
			continue;
		if (!CAN_SETFCAP(p)) {
			push(b, sc, WARD_SC_ALLOW, 0, NULL);
			continue;
		}
		c = cond(k, WARD_SC_OP_LT, XATTR_CAPS_SZ_2, 0);
		push_conds(b, sc, WARD_SC_ALLOW, 0, NULL, &c, 1);
		c = cond(k, WARD_SC_OP_GT, XATTR_CAPS_SZ_3, 0);
		push_conds(b, sc, WARD_SC_ALLOW, 0, NULL, &c, 1);
		for (v = XATTR_CAPS_SZ_2; v <= XATTR_CAPS_SZ_3; v++) {
			bool caps = v == XATTR_CAPS_SZ_2 || v == XATTR_CAPS_SZ_3;

			c = cond(k, WARD_SC_OP_EQ, v, 0);
			push_conds(b, sc, caps ? WARD_SC_ERRNO : WARD_SC_ALLOW, caps ? EPERM : 0,
				   caps ? why_fcaps : NULL, &c, 1);
		}
	}
}

/* memfd_create(2): MFD_EXEC is refused unless the policy lets the program
 * run what it wrote (scratch_exec).  The second layer is
 * vm.memfd_noexec=2 in the sandbox's pid namespace (launch.c), which makes
 * every memfd non-executable and sealed so. */
static void add_memfd_rules(struct builder *b, const struct ward_policy *p)
{
	struct ward_sc_arg c;

	if (!known("memfd_create"))
		return;
	if (p->scratch_exec) {
		push(b, "memfd_create", WARD_SC_ALLOW, 0, NULL);
		return;
	}
	c = cond(1, WARD_SC_OP_MASKED_EQ, MFD_EXEC, 0);
	push_conds(b, "memfd_create", WARD_SC_ALLOW, 0, NULL, &c, 1);
	c = cond(1, WARD_SC_OP_MASKED_EQ, MFD_EXEC, MFD_EXEC);
	push_conds(b, "memfd_create", WARD_SC_ERRNO, EPERM, why_mfd_exec, &c, 1);
}

bool ward_sc_decode_key(const char *syscall, const uint64_t *args, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(mode_calls); i++) {
		unsigned mode;

		if (strcmp(mode_calls[i].syscall, syscall) != 0)
			continue;
		mode = (unsigned)(args[mode_calls[i].mode_arg] & 07777);
		if (mode_calls[i].flags_arg >= 0) {
			uint64_t f = args[mode_calls[i].flags_arg];

			snprintf(buf, len, "%s%smode 0%o", (f & O_CREAT) ? "O_CREAT, " : "",
				 (f & KERNEL_O_TMPFILE) ? "O_TMPFILE, " : "", mode);
		} else {
			snprintf(buf, len, "mode 0%o", mode);
		}
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(xattr_calls); i++) {
		if (strcmp(xattr_calls[i].syscall, syscall) == 0) {
			snprintf(buf, len, "size %llu",
				 (unsigned long long)args[xattr_calls[i].size_arg]);
			return true;
		}
	}
	if (strcmp(syscall, "memfd_create") == 0) {
		if (args[1] & MFD_EXEC)
			snprintf(buf, len, "MFD_EXEC");
		else
			snprintf(buf, len, "flags 0x%llx", (unsigned long long)(args[1] & LOW32));
		return true;
	}
	return false;
}

size_t ward_sc_arg_filters(const struct ward_policy *p, struct ward_sc_arg_filter *out, size_t max)
{
	size_t n = 0;

#define ADD(w, r)                                                   \
	do {                                                        \
		if (n < max)                                        \
			out[n] = (struct ward_sc_arg_filter){w, r}; \
		n++;                                                \
	} while (0)
	ADD("chmod, fchmod, fchmodat, fchmodat2, mknod, mknodat, mkdir, mkdirat and creat with "
	    "S_ISUID or S_ISGID in the mode; open and openat with O_CREAT or O_TMPFILE and such "
	    "a mode",
	    why_setid);
	ADD("openat2 (ENOSYS)", why_openat2);
	if (CAN_SETFCAP(p))
		ADD("setxattr, lsetxattr, fsetxattr of a 20- or 24-byte value", why_fcaps);
	if (!p->scratch_exec)
		ADD("memfd_create with MFD_EXEC", why_mfd_exec);
	if ((p->socket_families >> AF_NETLINK) & 1)
		ADD("socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", why_uevent);
#undef ADD
	return n < max ? n : max;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* A total order on rule contents: the canonical order of the list. */
static int rule_cmp(const void *pa, const void *pb)
{
	const struct ward_sc_rule *a = pa, *b = pb;
	unsigned i;
	int c;

	c = strcmp(a->syscall, b->syscall);
	if (c)
		return c;
	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	if (a->err != b->err)
		return a->err < b->err ? -1 : 1;
	if (a->n_args != b->n_args)
		return a->n_args < b->n_args ? -1 : 1;
	for (i = 0; i < a->n_args; i++) {
		const struct ward_sc_arg *x = &a->args[i], *y = &b->args[i];

		c = cmp_u64(x->index, y->index);
		if (!c)
			c = cmp_u64(x->op, y->op);
		if (!c)
			c = cmp_u64(x->a, y->a);
		if (!c)
			c = cmp_u64(x->b, y->b);
		if (c)
			return c;
	}
	c = cmp_str(a->entitlement, b->entitlement);
	return c ? c : cmp_str(a->reason, b->reason);
}

int ward_seccomp_rules(const struct ward_policy *p, struct ward_sc_rules *out, ward_error_t *err)
{
	struct builder b = {0};
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (p->level != WARD_LEVEL_CONFINED && p->level != WARD_LEVEL_USER &&
	    p->level != WARD_LEVEL_ADMIN)
		return ward_error_set(err, EINVAL, "seccomp profile: invalid security level %d",
				      (int)p->level);

	add_groups(&b, p);
	/* clone3(2) passes its flags in a struct in memory: a filter cannot
	 * check them, so it is refused with ENOSYS and glibc falls back to
	 * clone(2), whose flags are checked.  Explicit, so it stays ENOSYS
	 * whatever the default action becomes. */
	push(&b, "clone3", WARD_SC_ERRNO, ENOSYS, NULL);
	add_ns_rules(&b, p, "clone", NS_CLONE_FLAGS);
	add_ns_rules(&b, p, "unshare", NS_UNSHARE_FLAGS);
	add_socket_rules(&b, p);
	add_ioctl_rules(&b);
	add_personality_rules(&b);
	add_mode_rules(&b);
	add_xattr_rules(&b, p);
	add_memfd_rules(&b, p);

	qsort(b.v, b.n, sizeof(*b.v), rule_cmp);
	for (i = 0, n = 0; i < b.n; i++) {
		if (n > 0 && rule_cmp(&b.v[n - 1], &b.v[i]) == 0)
			continue;
		b.v[n++] = b.v[i];
	}

	out->rules = b.v;
	out->n = n;
	out->default_errno = ENOSYS;
	return 0;
}

void ward_sc_rules_free(struct ward_sc_rules *r)
{
	if (r == NULL)
		return;
	free(r->rules);
	r->rules = NULL;
	r->n = 0;
}

static bool arg_matches(const struct ward_sc_arg *c, const uint64_t *args)
{
	uint64_t x = (args && c->index < 6) ? args[c->index] : 0;

	switch (c->op) {
	case WARD_SC_OP_EQ:
		return x == c->a;
	case WARD_SC_OP_NE:
		return x != c->a;
	case WARD_SC_OP_MASKED_EQ:
		return (x & c->a) == c->b;
	case WARD_SC_OP_LT:
		return x < c->a;
	case WARD_SC_OP_GT:
		return x > c->a;
	default:
		return false;
	}
}

const struct ward_sc_rule *ward_sc_rules_match(const struct ward_sc_rules *r, const char *syscall,
					       const uint64_t *args)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct ward_sc_rule *rule = &r->rules[i];
		bool ok = true;
		unsigned j;

		if (strcmp(rule->syscall, syscall) != 0)
			continue;
		for (j = 0; j < rule->n_args && ok; j++)
			ok = arg_matches(&rule->args[j], args);
		if (ok)
			return rule;
	}
	return NULL;
}
