/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the syscall layer: the groups, the rules the profile
 * compiler produces for each policy (exactly), the cache key, the cache,
 * SHA-256, and the real filter installed in a forked child.
 *
 * Set WARD_SECCOMP_BENCH=1 to also print the cost of the filter on a few
 * syscalls (nothing is asserted about timings).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/personality.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#include <cmocka.h>
#include <seccomp.h>

#include "entitlements.h"
#include "seccomp/groups.h"
#include "seccomp/seccomp.h"
#include "util.h"

#define FAM(f) (1ULL << (f))

static const char *const special[] = {
	"clone",
	"clone3",
	"unshare",
	"socket",
	"socketpair",
	"ioctl",
	"personality",
	/* modes (S_ISUID/S_ISGID), file capabilities, MFD_EXEC */
	"open",
	"openat",
	"openat2",
	"creat",
	"chmod",
	"fchmod",
	"fchmodat",
	"fchmodat2",
	"mknod",
	"mknodat",
	"mkdir",
	"mkdirat",
	"setxattr",
	"lsetxattr",
	"fsetxattr",
	"memfd_create",
	NULL,
};

/* Calls that x86_64 declares but does not implement (the kernel answers
 * ENOSYS itself): in no group, so the filter says ENOSYS too. */
static const char *const unimplemented[] = {
	"afs_syscall", "getpmsg",	"putpmsg",	  "security", "tuxcall",
	"vserver",     "epoll_ctl_old", "epoll_wait_old", NULL,
};

/* Names in the groups that do not exist on x86_64 (skipped). */
static const char *const not_on_x86_64[] = {
	"stime", "umount", "vm86", "vm86old", "lsm_set_self_attr", NULL,
};

static bool in_list(const char *const *l, const char *name)
{
	for (; *l; l++)
		if (strcmp(*l, name) == 0)
			return true;
	return false;
}

static size_t list_len(const char *const *l)
{
	size_t n = 0;

	while (l[n])
		n++;
	return n;
}

static void policy_init(struct ward_policy *p, enum ward_level level, enum ward_net_mode net)
{
	memset(p, 0, sizeof(*p));
	p->level = level;
	p->net = net;
	p->socket_families = FAM(AF_UNIX);
	if (net != WARD_NET_NONE)
		p->socket_families |= FAM(AF_INET) | FAM(AF_INET6) | FAM(AF_NETLINK);
	p->allow_ns_clone = level == WARD_LEVEL_ADMIN;
}

static void rules_for(const struct ward_policy *p, struct ward_sc_rules *r)
{
	ward_error_t err = NULL;

	assert_int_equal(ward_seccomp_rules(p, r, &err), 0);
	assert_null(err);
	assert_int_equal(r->default_errno, ENOSYS);
}

static size_t count_rules(const struct ward_sc_rules *r, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += strcmp(r->rules[i].syscall, name) == 0;
	return n;
}

static void check_ent(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_non_null(got), assert_string_equal(got, want);
}

/* The syscall has exactly one rule, without conditions. */
static void expect_plain(const struct ward_sc_rules *r, const char *name,
			 enum ward_sc_action action, int err, const char *ent)
{
	const struct ward_sc_rule *rule = ward_sc_rules_match(r, name, NULL);

	if (rule == NULL || count_rules(r, name) != 1)
		fail_msg("%s: expected exactly one rule, found %zu", name, count_rules(r, name));
	assert_int_equal(rule->n_args, 0);
	assert_int_equal(rule->action, action);
	assert_int_equal(rule->err, action == WARD_SC_ERRNO ? err : 0);
	check_ent(rule->entitlement, ent);
}

/* A call with all six arguments gets this action; returns the rule. */
static const struct ward_sc_rule *expect_call6(const struct ward_sc_rules *r, const char *name,
					       const uint64_t args[6], enum ward_sc_action action,
					       int err)
{
	const struct ward_sc_rule *rule = ward_sc_rules_match(r, name, args);

	if (rule == NULL)
		fail_msg("%s(%#llx, %#llx, %#llx, %#llx): no rule matched", name,
			 (unsigned long long)args[0], (unsigned long long)args[1],
			 (unsigned long long)args[2], (unsigned long long)args[3]);
	if (rule->action != action || rule->err != (action == WARD_SC_ERRNO ? err : 0))
		fail_msg("%s(%#llx, %#llx, %#llx, %#llx): action %d errno %d, expected %d errno %d",
			 name, (unsigned long long)args[0], (unsigned long long)args[1],
			 (unsigned long long)args[2], (unsigned long long)args[3], rule->action,
			 rule->err, action, err);
	return rule;
}

/* A call with these arguments gets this action. */
static void expect_call(const struct ward_sc_rules *r, const char *name, uint64_t a0, uint64_t a1,
			enum ward_sc_action action, int err, const char *ent)
{
	uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
	const struct ward_sc_rule *rule = ward_sc_rules_match(r, name, args);

	if (rule == NULL)
		fail_msg("%s(%#llx, %#llx): no rule matched", name, (unsigned long long)a0,
			 (unsigned long long)a1);
	if (rule->action != action || rule->err != (action == WARD_SC_ERRNO ? err : 0))
		fail_msg("%s(%#llx, %#llx): action %d errno %d, expected %d errno %d", name,
			 (unsigned long long)a0, (unsigned long long)a1, rule->action, rule->err,
			 action, err);
	check_ent(rule->entitlement, ent);
}

/* ---------------------------------------------------------------- */

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmno"
		 "pqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	/* Lengths around the padding boundaries, of 'a's. */
	static const struct {
		size_t len;
		const char *hex;
	} a[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
		{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
		{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
	};
	char as[1000], hex[65];
	uint8_t d[32];
	struct ward_sha256 s;
	size_t i, j, done;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ward_sha256(v[i].msg, strlen(v[i].msg), d);
		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(hex, v[i].hex);
	}
	memset(as, 'a', sizeof(as));
	for (i = 0; i < ARRAY_SIZE(a); i++) {
		ward_sha256(as, a[i].len, d);
		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(hex, a[i].hex);
	}
	/* One million 'a's, fed in uneven pieces through the incremental API. */
	ward_sha256_init(&s);
	for (done = 0, i = 1; done < 1000000; i = i % 997 + 1) {
		size_t take = 1000000 - done < i ? 1000000 - done : i;

		ward_sha256_update(&s, as, take);
		done += take;
	}
	ward_sha256_final(&s, d);
	for (j = 0; j < 32; j++)
		snprintf(hex + 2 * j, 3, "%02x", d[j]);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* ---------------------------------------------------------------- */

static void test_groups_consistent(void **state)
{
	const char *const *allow[] = {ward_sc_base, ward_sc_user, ward_sc_admin, ward_sc_debug,
				      ward_sc_time};
	const char *const *all[] = {ward_sc_base,  ward_sc_user, ward_sc_admin,
				    ward_sc_debug, ward_sc_time, ward_sc_never};
	const char *const *g;
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(all); i++) {
		for (g = all[i]; *g; g++) {
			/* A typo would silently become "unknown" (ENOSYS). */
			if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, *g) < 0 &&
			    !in_list(not_on_x86_64, *g))
				fail_msg("group %zu: libseccomp does not know \"%s\"", i, *g);
			if (in_list(special, *g))
				fail_msg("\"%s\" is argument-filtered and must be in no group", *g);
			if (in_list(g + 1, *g))
				fail_msg("\"%s\" twice in group %zu", *g, i);
		}
	}
	/* never is disjoint from every allow group; base from the others. */
	for (g = ward_sc_never; *g; g++)
		for (i = 0; i < ARRAY_SIZE(allow); i++)
			if (in_list(allow[i], *g))
				fail_msg("\"%s\" is both never and allowed", *g);
	for (g = ward_sc_base; *g; g++)
		for (i = 1; i < ARRAY_SIZE(allow); i++)
			if (in_list(allow[i], *g))
				fail_msg("\"%s\" is in the base and in group %zu", *g, i);
	/* security.user implies process.debug (same ptrace checks). */
	for (g = ward_sc_debug; *g; g++)
		if (!in_list(ward_sc_user, *g))
			fail_msg("debug syscall \"%s\" missing from security.user", *g);

	/* Every x86_64 syscall libseccomp knows is classified, so a new one
	 * in a libseccomp update is a conscious decision, not a silent ENOSYS. */
	for (k = 0; k < 1024; k++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)k);
		bool found = false;

		if (name == NULL)
			continue;
		for (i = 0; i < ARRAY_SIZE(all) && !found; i++)
			found = in_list(all[i], name);
		found = found || in_list(special, name) || in_list(unimplemented, name);
		if (!found) {
			char copy[64];

			snprintf(copy, sizeof(copy), "%s", name);
			free(name);
			fail_msg("x86_64 syscall %zu \"%s\" is in no group", k, copy);
		}
		free(name);
	}
	print_message("groups: base %zu, user %zu, admin %zu, debug %zu, time %zu, never %zu\n",
		      list_len(ward_sc_base), list_len(ward_sc_user), list_len(ward_sc_admin),
		      list_len(ward_sc_debug), list_len(ward_sc_time), list_len(ward_sc_never));
}

/* ---------------------------------------------------------------- */

/* Can no value of one argument satisfy both conditions?  (Conditions on
 * the same argument only.) */
static bool conds_disjoint(const struct ward_sc_arg *x, const struct ward_sc_arg *y)
{
	uint64_t xm = x->a, xv = x->b, ym = y->a, yv = y->b;
	uint64_t lo_x = 0, hi_x = UINT64_MAX, lo_y = 0, hi_y = UINT64_MAX;

	if (x->op == WARD_SC_OP_EQ)
		xm = UINT64_MAX, xv = x->a;
	if (y->op == WARD_SC_OP_EQ)
		ym = UINT64_MAX, yv = y->a;
	if ((x->op == WARD_SC_OP_EQ || x->op == WARD_SC_OP_MASKED_EQ) &&
	    (y->op == WARD_SC_OP_EQ || y->op == WARD_SC_OP_MASKED_EQ))
		return ((xv ^ yv) & xm & ym) != 0;
	/* Ranges: EQ is a point; MASKED_EQ is not compared with a range
	 * (the profile never mixes them on one argument). */
	if (x->op == WARD_SC_OP_MASKED_EQ || y->op == WARD_SC_OP_MASKED_EQ ||
	    x->op == WARD_SC_OP_NE || y->op == WARD_SC_OP_NE)
		return false;
	if (x->op == WARD_SC_OP_EQ)
		lo_x = hi_x = x->a;
	else if (x->op == WARD_SC_OP_LT)
		hi_x = x->a - 1;
	else
		lo_x = x->a + 1;
	if (y->op == WARD_SC_OP_EQ)
		lo_y = hi_y = y->a;
	else if (y->op == WARD_SC_OP_LT)
		hi_y = y->a - 1;
	else
		lo_y = y->a + 1;
	return hi_x < lo_y || hi_y < lo_x;
}

/* Structure of any rule list: canonical order, and the rules of one
 * syscall are pairwise disjoint (some argument both constrain has no value
 * that satisfies both), so libseccomp's tie-breaking never matters. */
static void check_structure(const struct ward_sc_rules *r)
{
	size_t i, j;
	unsigned a, b;

	for (i = 0; i < r->n; i++) {
		const struct ward_sc_rule *x = &r->rules[i];

		assert_true(seccomp_syscall_resolve_name(x->syscall) >= 0);
		if (i > 0)
			assert_true(strcmp(r->rules[i - 1].syscall, x->syscall) <= 0);
		if (x->action == WARD_SC_ALLOW)
			assert_int_equal(x->err, 0);
		else
			assert_true(x->err == EPERM || x->err == ENOSYS);
		/* No argument is constrained twice in one rule (libseccomp
		 * refuses that). */
		for (a = 0; a < x->n_args; a++)
			for (b = a + 1; b < x->n_args; b++)
				assert_int_not_equal(x->args[a].index, x->args[b].index);
		for (j = i + 1; j < r->n && strcmp(r->rules[j].syscall, x->syscall) == 0; j++) {
			const struct ward_sc_rule *y = &r->rules[j];
			bool disjoint = false;

			/* An unconditional rule must be alone. */
			assert_true(x->n_args >= 1);
			assert_true(y->n_args >= 1);
			for (a = 0; a < x->n_args && !disjoint; a++)
				for (b = 0; b < y->n_args && !disjoint; b++)
					disjoint = x->args[a].index == y->args[b].index &&
						   conds_disjoint(&x->args[a], &y->args[b]);
			if (!disjoint)
				fail_msg("%s: rules %zu and %zu overlap", x->syscall, i, j);
		}
	}
}

static void test_confined_none(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	rules_for(&p, &r);
	check_structure(&r);

	expect_plain(&r, "getppid", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "read", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "execve", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "landlock_restrict_self", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "seccomp", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "setresuid", WARD_SC_ALLOW, 0, NULL);

	/* Denied, naming the entitlement that grants each. */
	expect_plain(&r, "mount", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "umount2", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "pivot_root", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "fsopen", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "open_tree", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "setns", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "sethostname", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "ptrace", WARD_SC_ERRNO, EPERM, "process.debug");
	expect_plain(&r, "process_vm_readv", WARD_SC_ERRNO, EPERM, "process.debug");
	expect_plain(&r, "pidfd_getfd", WARD_SC_ERRNO, EPERM, "process.debug");
	expect_plain(&r, "chroot", WARD_SC_ERRNO, EPERM, "security.user");
	expect_plain(&r, "name_to_handle_at", WARD_SC_ERRNO, EPERM, "security.user");
	expect_plain(&r, "adjtimex", WARD_SC_ERRNO, EPERM, "security.user");
	expect_plain(&r, "settimeofday", WARD_SC_ERRNO, EPERM, "host.time");
	expect_plain(&r, "clock_settime", WARD_SC_ERRNO, EPERM, "host.time");

	/* Never granted. */
	expect_plain(&r, "kexec_load", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "init_module", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "bpf", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "perf_event_open", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "keyctl", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "userfaultfd", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "io_uring_setup", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "open_by_handle_at", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "reboot", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "syslog", WARD_SC_ERRNO, EPERM, NULL);

	/* Unknown: no rule, the default ENOSYS. */
	assert_int_equal(count_rules(&r, "stime"), 0);
	assert_int_equal(count_rules(&r, "umount"), 0);
	assert_int_equal(count_rules(&r, "tuxcall"), 0);
	assert_null(ward_sc_rules_match(&r, "no_such_syscall", NULL));

	/* clone3: always ENOSYS so that libc falls back to clone. */
	expect_plain(&r, "clone3", WARD_SC_ERRNO, ENOSYS, NULL);

	/* clone: flags are argument 0 on x86_64. */
	assert_int_equal(count_rules(&r, "clone"), 8);
	expect_call(&r, "clone", SIGCHLD, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "clone",
		    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			    CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			    CLONE_CHILD_CLEARTID,
		    0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "clone", CLONE_NEWUSER | SIGCHLD, 0, WARD_SC_ERRNO, EPERM,
		    "security.admin");
	expect_call(&r, "clone", CLONE_NEWNS, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_call(&r, "clone", CLONE_NEWPID | CLONE_NEWNET, 0, WARD_SC_ERRNO, EPERM,
		    "security.admin");
	expect_call(&r, "clone", CLONE_NEWCGROUP, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	/* 0x80 is CLONE_NEWTIME for unshare, but part of the exit signal for
	 * clone; the kernel ignores clone's upper 32 bits. */
	expect_call(&r, "clone", 0x80 | SIGCHLD, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "clone", (1ULL << 32) | SIGCHLD, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "clone", (1ULL << 32) | CLONE_NEWUSER, 0, WARD_SC_ERRNO, EPERM,
		    "security.admin");

	assert_int_equal(count_rules(&r, "unshare"), 9);
	expect_call(&r, "unshare", 0, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "unshare", CLONE_FILES | CLONE_FS, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "unshare", CLONE_NEWUSER, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_call(&r, "unshare", CLONE_NEWTIME, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_call(&r, "unshare", CLONE_NEWIPC | CLONE_NEWUTS, 0, WARD_SC_ERRNO, EPERM,
		    "security.admin");

	/* socket: AF_UNIX only; inet and netlink name network.loopback. */
	expect_call(&r, "socket", AF_UNIX, SOCK_STREAM, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_INET, SOCK_STREAM, WARD_SC_ERRNO, EPERM, "network.loopback");
	expect_call(&r, "socket", AF_INET6, SOCK_DGRAM, WARD_SC_ERRNO, EPERM, "network.loopback");
	expect_call(&r, "socket", AF_NETLINK, SOCK_RAW, WARD_SC_ERRNO, EPERM, "network.loopback");
	expect_call(&r, "socket", AF_PACKET, SOCK_RAW, WARD_SC_ERRNO, EPERM, "network.admin");
	expect_call(&r, "socket", AF_VSOCK, SOCK_STREAM, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "socket", AF_UNSPEC, 0, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "socket", 63, 0, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "socket", 0xffffffffULL, 0, WARD_SC_ERRNO, EPERM, NULL);
	/* The kernel reads the family as an int: high bits change nothing. */
	expect_call(&r, "socket", (1ULL << 32) | AF_INET, 0, WARD_SC_ERRNO, EPERM,
		    "network.loopback");
	expect_call(&r, "socket", (1ULL << 32) | AF_UNIX, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socketpair", AF_UNIX, SOCK_STREAM, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socketpair", AF_INET, SOCK_STREAM, WARD_SC_ERRNO, EPERM, NULL);

	/* ioctl: everything but terminal injection. */
	assert_int_equal(count_rules(&r, "ioctl"), 2 + 34);
	expect_call(&r, "ioctl", 0, TIOCSTI, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "ioctl", 0, TIOCLINUX, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "ioctl", 3, (1ULL << 32) | TIOCSTI, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "ioctl", 3, 0xffffffff00000000ULL | TIOCLINUX, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "ioctl", 0, TCGETS, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "ioctl", 0, TIOCGWINSZ, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "ioctl", 0, FIONREAD, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "ioctl", 0, TIOCSTI + 1, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "ioctl", 0, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "ioctl", 0, 0xffffffffULL, WARD_SC_ALLOW, 0, NULL);

	/* personality: Docker's five values. */
	expect_call(&r, "personality", PER_LINUX, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", PER_LINUX32, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", UNAME26, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", PER_LINUX32 | UNAME26, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", 0xffffffffULL, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", ~0ULL, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "personality", READ_IMPLIES_EXEC, 0, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "personality", ADDR_NO_RANDOMIZE, 0, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "personality", PER_BSD, 0, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "personality", 0xfffffffeULL, 0, WARD_SC_ERRNO, EPERM, NULL);

	ward_sc_rules_free(&r);
}

static void test_loopback(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_LOOPBACK);
	rules_for(&p, &r);
	check_structure(&r);
	expect_call(&r, "socket", AF_UNIX, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_INET, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_INET6, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_NETLINK, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_PACKET, 0, WARD_SC_ERRNO, EPERM, "network.admin");
	expect_call(&r, "socket", AF_BLUETOOTH, 0, WARD_SC_ERRNO, EPERM, NULL);
	/* Netlink: every protocol but the host's device events. */
	{
		uint64_t a[6] = {AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */};
		const struct ward_sc_rule *rule;

		expect_call6(&r, "socket", a, WARD_SC_ALLOW, 0);
		a[2] = 4; /* NETLINK_SOCK_DIAG */
		expect_call6(&r, "socket", a, WARD_SC_ALLOW, 0);
		a[2] = 16; /* NETLINK_GENERIC */
		expect_call6(&r, "socket", a, WARD_SC_ALLOW, 0);
		a[2] = 15; /* NETLINK_KOBJECT_UEVENT */
		rule = expect_call6(&r, "socket", a, WARD_SC_ERRNO, EPERM);
		assert_null(rule->entitlement);
		assert_non_null(strstr(rule->reason, "device events"));
		a[2] = (1ULL << 32) | 15; /* the kernel reads an int */
		expect_call6(&r, "socket", a, WARD_SC_ERRNO, EPERM);
		a[2] = 15 | 0x100;
		expect_call6(&r, "socket", a, WARD_SC_ALLOW, 0);
	}
	expect_call(&r, "socketpair", AF_INET, 0, WARD_SC_ERRNO, EPERM, NULL);
	/* Nothing else changes. */
	expect_plain(&r, "mount", WARD_SC_ERRNO, EPERM, "security.admin");
	ward_sc_rules_free(&r);

	/* AF_UNIX is allowed even when the policy forgot it. */
	p.socket_families = 0;
	rules_for(&p, &r);
	expect_call(&r, "socket", AF_UNIX, 0, WARD_SC_ALLOW, 0, NULL);
	expect_call(&r, "socket", AF_INET, 0, WARD_SC_ERRNO, EPERM, "network.loopback");
	ward_sc_rules_free(&r);
}

static void test_user(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;

	(void)state;
	policy_init(&p, WARD_LEVEL_USER, WARD_NET_NONE);
	rules_for(&p, &r);
	check_structure(&r);
	expect_plain(&r, "getppid", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "ptrace", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "process_vm_writev", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "kcmp", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "chroot", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "modify_ldt", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "adjtimex", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "clock_adjtime", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "name_to_handle_at", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "mount", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "setns", WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "settimeofday", WARD_SC_ERRNO, EPERM, "host.time");
	expect_plain(&r, "bpf", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "clone3", WARD_SC_ERRNO, ENOSYS, NULL);
	expect_call(&r, "clone", CLONE_NEWUSER, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_call(&r, "unshare", CLONE_NEWNS, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_call(&r, "socket", AF_INET, 0, WARD_SC_ERRNO, EPERM, "network.loopback");
	expect_call(&r, "ioctl", 0, TIOCSTI, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "personality", READ_IMPLIES_EXEC, 0, WARD_SC_ERRNO, EPERM, NULL);
	ward_sc_rules_free(&r);
}

static void test_admin(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;

	(void)state;
	policy_init(&p, WARD_LEVEL_ADMIN, WARD_NET_NONE);
	rules_for(&p, &r);
	check_structure(&r);
	expect_plain(&r, "mount", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "umount2", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "pivot_root", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "fsopen", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "fsconfig", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "fsmount", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "move_mount", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "mount_setattr", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "setns", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "sethostname", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "ptrace", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "chroot", WARD_SC_ALLOW, 0, NULL);
	/* allow_ns_clone: clone and unshare unconditionally. */
	expect_plain(&r, "clone", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "unshare", WARD_SC_ALLOW, 0, NULL);
	/* Still never, still ENOSYS, still filtered. */
	expect_plain(&r, "clone3", WARD_SC_ERRNO, ENOSYS, NULL);
	expect_plain(&r, "kexec_load", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "syslog", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "open_by_handle_at", WARD_SC_ERRNO, EPERM, NULL);
	expect_plain(&r, "settimeofday", WARD_SC_ERRNO, EPERM, "host.time");
	expect_call(&r, "socket", AF_INET, 0, WARD_SC_ERRNO, EPERM, "network.loopback");
	expect_call(&r, "ioctl", 0, TIOCSTI, WARD_SC_ERRNO, EPERM, NULL);
	expect_call(&r, "personality", PER_BSD, 0, WARD_SC_ERRNO, EPERM, NULL);
	ward_sc_rules_free(&r);

	/* Namespaces follow allow_ns_clone, not the level. */
	p.allow_ns_clone = false;
	rules_for(&p, &r);
	expect_call(&r, "clone", CLONE_NEWUSER, 0, WARD_SC_ERRNO, EPERM, "security.admin");
	expect_plain(&r, "mount", WARD_SC_ALLOW, 0, NULL);
	ward_sc_rules_free(&r);
}

static void test_debug_and_time(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	p.debug = true;
	rules_for(&p, &r);
	check_structure(&r);
	expect_plain(&r, "ptrace", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "process_vm_readv", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "kcmp", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "pidfd_getfd", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "chroot", WARD_SC_ERRNO, EPERM, "security.user");
	expect_plain(&r, "settimeofday", WARD_SC_ERRNO, EPERM, "host.time");
	ward_sc_rules_free(&r);

	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	p.host_time = true;
	rules_for(&p, &r);
	check_structure(&r);
	expect_plain(&r, "settimeofday", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "clock_settime", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "clock_adjtime", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "adjtimex", WARD_SC_ALLOW, 0, NULL);
	expect_plain(&r, "ptrace", WARD_SC_ERRNO, EPERM, "process.debug");
	assert_int_equal(count_rules(&r, "stime"), 0); /* not on x86_64 */
	ward_sc_rules_free(&r);
}

/* Nothing the sandbox writes may carry privilege on the host: the mode
 * calls refuse S_ISUID and S_ISGID under every policy. */
static void test_setid_modes(void **state)
{
	static const enum ward_level levels[] = {WARD_LEVEL_CONFINED, WARD_LEVEL_USER,
						 WARD_LEVEL_ADMIN};
	static const struct {
		const char *name;
		unsigned mode_arg;
	} calls[] = {
		{"chmod", 1}, {"fchmod", 1},  {"fchmodat", 2}, {"fchmodat2", 2}, {"creat", 1},
		{"mknod", 1}, {"mknodat", 2}, {"mkdir", 1},    {"mkdirat", 2},
	};
	struct ward_policy p;
	struct ward_sc_rules r;
	size_t l, i;

	(void)state;
	for (l = 0; l < ARRAY_SIZE(levels); l++) {
		policy_init(&p, levels[l], WARD_NET_NONE);
		p.setuid = true; /* process.setuid changes nothing here */
		rules_for(&p, &r);
		check_structure(&r);
		for (i = 0; i < ARRAY_SIZE(calls); i++) {
			uint64_t a[6] = {0};
			const struct ward_sc_rule *rule;

			assert_int_equal(count_rules(&r, calls[i].name), 3);
			a[calls[i].mode_arg] = 0755;
			expect_call6(&r, calls[i].name, a, WARD_SC_ALLOW, 0);
			a[calls[i].mode_arg] = 01777; /* sticky is harmless */
			expect_call6(&r, calls[i].name, a, WARD_SC_ALLOW, 0);
			a[calls[i].mode_arg] = S_IFREG | 04755;
			rule = expect_call6(&r, calls[i].name, a, WARD_SC_ERRNO, EPERM);
			assert_null(rule->entitlement);
			assert_non_null(rule->reason);
			assert_non_null(strstr(rule->reason, "set-user-ID"));
			a[calls[i].mode_arg] = 02755;
			expect_call6(&r, calls[i].name, a, WARD_SC_ERRNO, EPERM);
			a[calls[i].mode_arg] = 06000;
			expect_call6(&r, calls[i].name, a, WARD_SC_ERRNO, EPERM);
			/* umode_t: high bits are ignored by the kernel and here. */
			a[calls[i].mode_arg] = (1ULL << 32) | 0644;
			expect_call6(&r, calls[i].name, a, WARD_SC_ALLOW, 0);
			a[calls[i].mode_arg] = (1ULL << 32) | 04644;
			expect_call6(&r, calls[i].name, a, WARD_SC_ERRNO, EPERM);
		}

		/* open(path, flags, mode) and openat(dfd, path, flags, mode):
		 * the mode counts only when the call creates a file. */
		{
			uint64_t o[6] = {0, O_WRONLY | O_CREAT, 04755};
			uint64_t at[6] = {(uint64_t)AT_FDCWD, 0, O_WRONLY | O_CREAT, 04755};

			assert_int_equal(count_rules(&r, "open"), 7);
			assert_int_equal(count_rules(&r, "openat"), 7);
			expect_call6(&r, "open", o, WARD_SC_ERRNO, EPERM);
			expect_call6(&r, "openat", at, WARD_SC_ERRNO, EPERM);
			o[1] = at[2] = O_WRONLY | O_TMPFILE;
			o[2] = at[3] = 02700;
			expect_call6(&r, "open", o, WARD_SC_ERRNO, EPERM);
			expect_call6(&r, "openat", at, WARD_SC_ERRNO, EPERM);
			/* __O_TMPFILE without O_DIRECTORY: still creating for us */
			o[1] = at[2] = 020000000;
			expect_call6(&r, "open", o, WARD_SC_ERRNO, EPERM);
			expect_call6(&r, "openat", at, WARD_SC_ERRNO, EPERM);
			/* O_DIRECTORY alone does not create: allowed. */
			o[1] = at[2] = O_RDONLY | O_DIRECTORY;
			expect_call6(&r, "open", o, WARD_SC_ALLOW, 0);
			expect_call6(&r, "openat", at, WARD_SC_ALLOW, 0);
			o[1] = at[2] = O_RDWR;
			expect_call6(&r, "open", o, WARD_SC_ALLOW, 0);
			expect_call6(&r, "openat", at, WARD_SC_ALLOW, 0);
			o[1] = at[2] = O_WRONLY | O_CREAT | O_TRUNC;
			o[2] = at[3] = 0644;
			expect_call6(&r, "open", o, WARD_SC_ALLOW, 0);
			expect_call6(&r, "openat", at, WARD_SC_ALLOW, 0);
			o[2] = at[3] = 0xffffffff00000000ULL | 0644;
			expect_call6(&r, "open", o, WARD_SC_ALLOW, 0);
			expect_call6(&r, "openat", at, WARD_SC_ALLOW, 0);
			o[1] = at[2] = (1ULL << 32) | O_CREAT;
			o[2] = at[3] = 04000;
			expect_call6(&r, "open", o, WARD_SC_ERRNO, EPERM);
			expect_call6(&r, "openat", at, WARD_SC_ERRNO, EPERM);
		}
		/* openat2: its mode is in memory.  ENOSYS: libc falls back. */
		expect_plain(&r, "openat2", WARD_SC_ERRNO, ENOSYS, NULL);
		ward_sc_rules_free(&r);
	}
}

/* set*xattr: plain under confined and user (no process ever holds
 * CAP_SETFCAP); under allow_ns_clone a nested user namespace would, so
 * the two sizes of a file capability are refused. */
static void test_xattr_sizes(void **state)
{
	static const char *const calls[] = {"setxattr", "lsetxattr", "fsetxattr"};
	struct ward_policy p;
	struct ward_sc_rules r;
	uint64_t a[6] = {0};
	size_t i;

	(void)state;
	policy_init(&p, WARD_LEVEL_USER, WARD_NET_NONE);
	rules_for(&p, &r);
	for (i = 0; i < ARRAY_SIZE(calls); i++)
		expect_plain(&r, calls[i], WARD_SC_ALLOW, 0, NULL);
	ward_sc_rules_free(&r);

	/* CAP_SETFCAP alone (security.admin's) is enough to filter. */
	p.caps = 1ULL << 31; /* CAP_SETFCAP */
	rules_for(&p, &r);
	assert_int_equal(count_rules(&r, "fsetxattr"), 7);
	ward_sc_rules_free(&r);

	policy_init(&p, WARD_LEVEL_ADMIN, WARD_NET_NONE);
	rules_for(&p, &r);
	check_structure(&r);
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		static const uint64_t ok[] = {0, 1, 12, 19, 21, 22, 23, 25, 4096, UINT64_MAX};
		size_t k;

		assert_int_equal(count_rules(&r, calls[i]), 7);
		for (k = 0; k < ARRAY_SIZE(ok); k++) {
			a[3] = ok[k];
			expect_call6(&r, calls[i], a, WARD_SC_ALLOW, 0);
		}
		a[3] = 20;
		expect_call6(&r, calls[i], a, WARD_SC_ERRNO, EPERM);
		a[3] = 24;
		assert_non_null(expect_call6(&r, calls[i], a, WARD_SC_ERRNO, EPERM)->reason);
		/* size_t: every bit counts for the kernel, so for the filter. */
		a[3] = (1ULL << 32) | 20;
		expect_call6(&r, calls[i], a, WARD_SC_ALLOW, 0);
	}
	ward_sc_rules_free(&r);
}

/* memfd_create(MFD_EXEC) follows scratch_exec. */
static void test_memfd_exec(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;
	uint64_t a[6] = {0};

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	rules_for(&p, &r);
	check_structure(&r);
	a[1] = 0;
	expect_call6(&r, "memfd_create", a, WARD_SC_ALLOW, 0);
	a[1] = MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x8 /* MFD_NOEXEC_SEAL */;
	expect_call6(&r, "memfd_create", a, WARD_SC_ALLOW, 0);
	a[1] = 0x10 /* MFD_EXEC */;
	assert_non_null(strstr(expect_call6(&r, "memfd_create", a, WARD_SC_ERRNO, EPERM)->reason,
			       "MFD_EXEC"));
	a[1] = MFD_CLOEXEC | 0x10;
	expect_call6(&r, "memfd_create", a, WARD_SC_ERRNO, EPERM);
	ward_sc_rules_free(&r);

	p.scratch_exec = true;
	rules_for(&p, &r);
	expect_plain(&r, "memfd_create", WARD_SC_ALLOW, 0, NULL);
	ward_sc_rules_free(&r);
}

/* The decoded key argument of a refused call, for denial messages. */
static void test_decode_key(void **state)
{
	uint64_t a[6] = {0};
	char buf[64];

	(void)state;
	a[1] = 04755;
	assert_true(ward_sc_decode_key("chmod", a, buf, sizeof(buf)));
	assert_string_equal(buf, "mode 04755");
	a[2] = O_WRONLY | O_CREAT;
	a[3] = 06755;
	assert_true(ward_sc_decode_key("openat", a, buf, sizeof(buf)));
	assert_string_equal(buf, "O_CREAT, mode 06755");
	a[3] = 20;
	assert_true(ward_sc_decode_key("fsetxattr", a, buf, sizeof(buf)));
	assert_string_equal(buf, "size 20");
	a[1] = 0x10;
	assert_true(ward_sc_decode_key("memfd_create", a, buf, sizeof(buf)));
	assert_string_equal(buf, "MFD_EXEC");
	assert_false(ward_sc_decode_key("getpid", a, buf, sizeof(buf)));
	assert_string_equal(buf, "");
}

static void test_invalid_level(void **state)
{
	struct ward_policy p;
	struct ward_sc_rules r;
	ward_error_t err = NULL;

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	p.level = (enum ward_level)7;
	assert_int_equal(ward_seccomp_rules(&p, &r, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "security level"));
	ward_error_free(&err);
}

/* ---------------------------------------------------------------- */

static void prepare_ok(const struct ward_policy *p, const char *cache,
		       struct ward_seccomp_prog *prog)
{
	ward_error_t err = NULL;

	if (ward_seccomp_prepare(p, cache, prog, &err) < 0)
		fail_msg("prepare: %s", err->msg);
	assert_null(err);
	assert_non_null(prog->insns);
	assert_true(prog->n_insns > 0 && prog->n_insns <= 4096);
	assert_int_equal(strlen(prog->hash), 64);
}

static void test_determinism(void **state)
{
	struct ward_policy p, q;
	struct ward_sc_rules r1, r2;
	struct ward_seccomp_prog a, b;
	size_t i;

	(void)state;
	policy_init(&p, WARD_LEVEL_USER, WARD_NET_LOOPBACK);
	rules_for(&p, &r1);
	rules_for(&p, &r2);
	assert_int_equal(r1.n, r2.n);
	for (i = 0; i < r1.n; i++) {
		assert_string_equal(r1.rules[i].syscall, r2.rules[i].syscall);
		assert_int_equal(r1.rules[i].action, r2.rules[i].action);
		assert_int_equal(r1.rules[i].err, r2.rules[i].err);
		assert_int_equal(r1.rules[i].n_args, r2.rules[i].n_args);
		assert_memory_equal(r1.rules[i].args, r2.rules[i].args, sizeof(r1.rules[i].args));
	}
	ward_sc_rules_free(&r1);
	ward_sc_rules_free(&r2);

	prepare_ok(&p, NULL, &a);
	prepare_ok(&p, NULL, &b);
	assert_false(a.from_cache);
	assert_string_equal(a.hash, b.hash);
	assert_int_equal(a.n_insns, b.n_insns);
	assert_memory_equal(a.insns, b.insns, a.n_insns * 8);
	ward_seccomp_prog_free(&b);

	/* Each difference in the policy that matters gives another key. */
	q = p;
	q.level = WARD_LEVEL_CONFINED;
	prepare_ok(&q, NULL, &b);
	assert_string_not_equal(a.hash, b.hash);
	ward_seccomp_prog_free(&b);
	q = p;
	q.socket_families = FAM(AF_UNIX);
	prepare_ok(&q, NULL, &b);
	assert_string_not_equal(a.hash, b.hash);
	ward_seccomp_prog_free(&b);
	q = p;
	q.host_time = true;
	prepare_ok(&q, NULL, &b);
	assert_string_not_equal(a.hash, b.hash);
	ward_seccomp_prog_free(&b);
	/* ...and what does not matter to the filter gives the same key. */
	q = p;
	q.pids_max = 12;
	q.net = WARD_NET_HOST;
	prepare_ok(&q, NULL, &b);
	assert_string_equal(a.hash, b.hash);
	ward_seccomp_prog_free(&b);
	ward_seccomp_prog_free(&a);
}

/* ---------------------------------------------------------------- */

struct cache_fixture {
	char root[64];
	char dir[128];
};

static int cache_setup(void **state)
{
	struct cache_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/ward-test-seccomp.XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/cache/seccomp", f->root);
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove what the cache test made, whatever happened.  The tree is ours
 * (mkdtemp); FTW_PHYS: symbolic links are removed, never followed. */
static int cache_teardown(void **state)
{
	struct cache_fixture *f = *state;
	int rc;

	(void)chmod(f->dir, 0700);
	rc = nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

static char *entry_path(const struct cache_fixture *f, const struct ward_seccomp_prog *prog)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s.bpf", f->dir, prog->hash) < 0)
		abort();
	return path;
}

static void test_cache(void **state)
{
	struct cache_fixture *f = *state;
	struct ward_policy p;
	struct ward_seccomp_prog a, b;
	struct stat st;
	char *path;
	int fd;

	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);

	/* First: generated and stored (directories made, 0700). */
	prepare_ok(&p, f->dir, &a);
	assert_false(a.from_cache);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	path = entry_path(f, &a);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, a.n_insns * 8 + 32);

	/* Second: from the cache, the same program. */
	prepare_ok(&p, f->dir, &b);
	assert_true(b.from_cache);
	assert_string_equal(a.hash, b.hash);
	assert_int_equal(a.n_insns, b.n_insns);
	assert_memory_equal(a.insns, b.insns, a.n_insns * 8);
	ward_seccomp_prog_free(&b);

	/* A damaged entry (one instruction changed) is ignored and rewritten. */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\x06\x00\x00\x00\x00\x00\xff\x7f", 8, 0), 8);
	close(fd);
	prepare_ok(&p, f->dir, &b);
	assert_false(b.from_cache);
	assert_memory_equal(a.insns, b.insns, a.n_insns * 8);
	ward_seccomp_prog_free(&b);
	prepare_ok(&p, f->dir, &b);
	assert_true(b.from_cache);
	ward_seccomp_prog_free(&b);

	/* A truncated entry: ignored and rewritten. */
	assert_int_equal(truncate(path, 13), 0);
	prepare_ok(&p, f->dir, &b);
	assert_false(b.from_cache);
	assert_memory_equal(a.insns, b.insns, a.n_insns * 8);
	ward_seccomp_prog_free(&b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, a.n_insns * 8 + 32);

	/* An entry others could have written is not trusted. */
	assert_int_equal(chmod(path, 0620), 0);
	prepare_ok(&p, f->dir, &b);
	assert_false(b.from_cache);
	ward_seccomp_prog_free(&b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* replaced */

	/* Nor a directory others can write to: not used, not written. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(chmod(f->dir, 0777), 0);
	prepare_ok(&p, f->dir, &b);
	assert_false(b.from_cache);
	ward_seccomp_prog_free(&b);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(chmod(f->dir, 0700), 0);

	/* A cache that cannot be made is not an error. */
	prepare_ok(&p, "/proc/self/ward-no-such-dir", &b);
	assert_false(b.from_cache);
	ward_seccomp_prog_free(&b);

	free(path);
	ward_seccomp_prog_free(&a);
}

/* ---------------------------------------------------------------- */
/* The real filter, in a child.                                      */

static char report[4096];
static size_t report_len;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		report_len += (size_t)n < sizeof(report) - report_len
				      ? (size_t)n
				      : sizeof(report) - report_len - 1;
}

/* Expect a syscall's raw result: -1 with errno want_errno, or success. */
#define EXPECT_ERRNO(call, want)                                                               \
	do {                                                                                   \
		long _r;                                                                       \
		errno = 0;                                                                     \
		_r = (long)(call);                                                             \
		if (_r != -1 || errno != (want))                                               \
			note("%s: returned %ld errno %d (%s), expected errno %d\n", #call, _r, \
			     errno, strerror(errno), (want));                                  \
	} while (0)

#define EXPECT_OK(call)                                                                         \
	do {                                                                                    \
		long _r;                                                                        \
		errno = 0;                                                                      \
		_r = (long)(call);                                                              \
		if (_r < 0)                                                                     \
			note("%s: failed with errno %d (%s)\n", #call, errno, strerror(errno)); \
	} while (0)

static void *thread_main(void *arg)
{
	return arg;
}

#if defined(__x86_64__)
static long int80_getpid(void)
{
	long ret;

	/* The i386 ABI from a 64-bit process: getpid is 20 there. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}
#endif

/* cmocka catches fatal signals to report them and carries on running
 * tests: a forked child must die of its signals instead. */
static void default_signals(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

/* Run fn in a grandchild; return its wait status. */
static int in_grandchild(void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		default_signals();
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void do_x32_getppid(void)
{
	syscall(0x40000000 | SYS_getppid);
}

#if defined(__x86_64__)
static void do_int80(void)
{
	int80_getpid();
}
#endif

static void child_checks(pid_t parent, bool ia32)
{
	char c = 'x';
	int fds[2], sv[2], n = 0, status;
	pthread_t th;
	pid_t pid;

	EXPECT_OK(pipe(fds));
	if ((pid_t)getppid() != parent)
		note("getppid() = %d, expected %d\n", (int)getppid(), (int)parent);

	/* Harmless even if the filter let them through (bad arguments). */
	EXPECT_ERRNO(mount("none", "/ward-no-such-dir", "ward-no-such-fs", 0, NULL), EPERM);
	EXPECT_ERRNO(umount2("/ward-no-such-dir", 0), EPERM);
	EXPECT_ERRNO(chroot("/ward-no-such-dir"), EPERM);
	EXPECT_ERRNO(syscall(SYS_setns, -1, 0), EPERM);
	EXPECT_ERRNO(ptrace(PTRACE_PEEKDATA, parent, NULL, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_bpf, -1, NULL, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_keyctl, -1, 0, 0, 0, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_io_uring_setup, 0, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_perf_event_open, NULL, -1, -1, -1, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_settimeofday, NULL, NULL), EPERM);

	EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, 0), EPERM);
	EXPECT_ERRNO(socket(AF_INET6, SOCK_DGRAM, 0), EPERM);
	EXPECT_ERRNO(socket(AF_NETLINK, SOCK_RAW, 0), EPERM);
	EXPECT_ERRNO(socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_socket, (1UL << 32) | AF_INET, SOCK_STREAM, 0), EPERM);
	EXPECT_OK(n = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (n >= 0)
		close(n);
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EPERM);

	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
	EXPECT_ERRNO(syscall(1000), ENOSYS);
	EXPECT_ERRNO(syscall(SYS_tuxcall), ENOSYS);

	EXPECT_ERRNO(ioctl(fds[0], TIOCSTI, &c), EPERM);
	EXPECT_ERRNO(ioctl(fds[0], TIOCLINUX, &c), EPERM);
	EXPECT_ERRNO(syscall(SYS_ioctl, fds[0], (1UL << 32) | TIOCSTI, &c), EPERM);
	n = -1;
	EXPECT_OK(ioctl(fds[0], FIONREAD, &n));
	if (n != 0)
		note("FIONREAD gave %d\n", n);

	EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
	EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
	EXPECT_ERRNO(unshare(CLONE_NEWTIME), EPERM);
	EXPECT_OK(unshare(CLONE_FILES));
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	if (pid != -1 || errno != EPERM)
		note("clone(CLONE_NEWUSER) = %d errno %d\n", (int)pid, errno);

	/* fork uses clone; pthread_create tries clone3 and falls back. */
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 7)
		note("fork under the filter failed\n");
	if (pthread_create(&th, NULL, thread_main, NULL) != 0)
		note("pthread_create under the filter failed\n");
	else
		pthread_join(th, NULL);

	/* Set-id modes (the path does not exist: ENOENT means the filter let
	 * the call through). */
	EXPECT_ERRNO(chmod("/ward-no-such-dir/f", 04755), EPERM);
	EXPECT_ERRNO(chmod("/ward-no-such-dir/f", 02755), EPERM);
	EXPECT_ERRNO(chmod("/ward-no-such-dir/f", 0755), ENOENT);
	EXPECT_ERRNO(syscall(SYS_chmod, "/ward-no-such-dir/f", (1UL << 32) | 0755), ENOENT);
	EXPECT_ERRNO(syscall(SYS_chmod, "/ward-no-such-dir/f", (1UL << 32) | 04755), EPERM);
	EXPECT_ERRNO(fchmod(fds[0], 06755), EPERM);
	EXPECT_ERRNO(fchmodat(AT_FDCWD, "/ward-no-such-dir/f", 04700, 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_fchmodat2, AT_FDCWD, "/ward-no-such-dir/f", 04700, 0), EPERM);
	EXPECT_ERRNO(open("/ward-no-such-dir/f", O_WRONLY | O_CREAT, 04755), EPERM);
	EXPECT_ERRNO(open("/ward-no-such-dir/f", O_WRONLY | O_CREAT, 0755), ENOENT);
	EXPECT_ERRNO(syscall(SYS_open, "/ward-no-such-dir/f", O_RDONLY, 04755), ENOENT);
	EXPECT_ERRNO(openat(AT_FDCWD, "/ward-no-such-dir/f", O_WRONLY | O_CREAT | O_EXCL, 02700),
		     EPERM);
	EXPECT_ERRNO(openat(AT_FDCWD, "/ward-no-such-dir", O_WRONLY | O_TMPFILE, 04755), EPERM);
	EXPECT_ERRNO(openat(AT_FDCWD, "/ward-no-such-dir", O_WRONLY | O_TMPFILE, 0755), ENOENT);
	EXPECT_ERRNO(creat("/ward-no-such-dir/f", 04755), EPERM);
	EXPECT_ERRNO(mknod("/ward-no-such-dir/f", S_IFREG | 04755, 0), EPERM);
	EXPECT_ERRNO(mknodat(AT_FDCWD, "/ward-no-such-dir/f", S_IFREG | 02755, 0), EPERM);
	EXPECT_ERRNO(mknod("/ward-no-such-dir/f", S_IFIFO | 0600, 0), ENOENT);
	EXPECT_ERRNO(mkdir("/ward-no-such-dir/d", 02755), EPERM);
	EXPECT_ERRNO(mkdirat(AT_FDCWD, "/ward-no-such-dir/d", 0755), ENOENT);
	EXPECT_ERRNO(syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0), ENOSYS);
	/* Executable memfds (the default policy: scratch is not executable). */
	EXPECT_ERRNO(syscall(SYS_memfd_create, "x", 0x10U /* MFD_EXEC */), EPERM);
	EXPECT_OK(n = (int)syscall(SYS_memfd_create, "x", MFD_CLOEXEC));
	if (n >= 0)
		close(n);

	EXPECT_OK(personality(0xffffffff));
	EXPECT_OK(personality(PER_LINUX));
	EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
	EXPECT_ERRNO(personality(ADDR_NO_RANDOMIZE), EPERM);

	/* Other ABIs: the x32 bit and int 0x80 kill the process. */
	status = in_grandchild(do_x32_getppid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		note("x32 getppid: wait status %#x, expected death by SIGSYS\n", status);
#if defined(__x86_64__)
	if (ia32) {
		status = in_grandchild(do_int80);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
			note("int 0x80 getpid: wait status %#x, expected death by SIGSYS\n",
			     status);
	}
#else
	(void)ia32;
#endif
}

static void test_install_confined(void **state)
{
	struct ward_policy p;
	struct ward_seccomp_prog prog;
	int pfd[2], status, i80;
	pid_t parent = getpid(), pid;
	char buf[4096];
	ssize_t n;
	size_t got = 0;

	(void)state;
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	prepare_ok(&p, NULL, &prog);

#if defined(__x86_64__)
	/* Does this kernel run i386 syscalls at all (ia32 emulation)?  If
	 * not, int 0x80 faults before seccomp sees it: nothing to check. */
	i80 = in_grandchild(do_int80);
	if (!WIFEXITED(i80))
		print_message("int 0x80 check skipped: no ia32 emulation (status %#x)\n", i80);
#else
	i80 = -1;
#endif

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ward_error_t err = NULL;

		close(pfd[0]);
		default_signals();
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			note("PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		} else if (ward_seccomp_install(&prog, 0, &err) < 0) {
			note("install: %s\n", err->msg);
		} else {
			child_checks(parent, WIFEXITED(i80));
		}
		(void)!write(pfd[1], report, report_len);
		_exit(report_len ? 1 : 0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("filtered child (status %#x):\n%s", status, buf);
	ward_seccomp_prog_free(&prog);
}

static void test_install_errors(void **state)
{
	struct ward_seccomp_prog empty = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_seccomp_install(&empty, 0, &err), -1);
	assert_non_null(err);
	ward_error_free(&err);
}

/* ---------------------------------------------------------------- */
/* Cost of the filter, printed only (WARD_SECCOMP_BENCH=1).             */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per call of n calls. */
static double time_calls(long n, long nr, long a0, long a1, long a2)
{
	double t0 = now_ns();
	long i;

	for (i = 0; i < n; i++)
		syscall(nr, a0, a1, a2);
	return (now_ns() - t0) / (double)n;
}

enum { B_GETPPID, B_IOCTL, B_SOCKET, B_KINDS, B_QUIT = 'q' };

struct bencher {
	pid_t pid;
	int cmd, res; /* pipes: parent -> child, child -> parent */
};

/*
 * A child with the filter installed (NULL: none) that times a batch of
 * calls each time it is asked.  The parent alternates between the children
 * batch by batch, so that the slow spells of a shared VM hit all of them.
 */
static int bencher_start(struct bencher *b, const struct ward_seccomp_prog *filter)
{
	int to[2], from[2];

	if (pipe(to) < 0 || pipe(from) < 0)
		return -1;
	b->pid = fork();
	if (b->pid == 0) {
		ward_error_t err = NULL;
		int fds[2], n = 0;
		cpu_set_t cpus;
		char kind;

		close(to[1]);
		close(from[0]);
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		(void)sched_setaffinity(0, sizeof(cpus), &cpus);
		if (pipe(fds) < 0)
			_exit(1);
		if (filter && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			       ward_seccomp_install(filter, 0, &err) < 0))
			_exit(1);
		while (read(to[0], &kind, 1) == 1) {
			double t;

			switch (kind) {
			case B_GETPPID:
				t = time_calls(200000, SYS_getppid, 0, 0, 0);
				break;
			case B_IOCTL:
				t = time_calls(100000, SYS_ioctl, fds[0], FIONREAD, (long)&n);
				break;
			case B_QUIT:
				_exit(0);
			case B_SOCKET:
				/* AF_INET with a bad type: EINVAL from the kernel
				 * when unfiltered, EPERM from ward's filter. */
				t = time_calls(100000, SYS_socket, AF_INET, 0x7fffffff, 0);
				break;
			default:
				_exit(1);
			}
			if (write(from[1], &t, sizeof(t)) != (ssize_t)sizeof(t))
				_exit(1);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	b->cmd = to[1];
	b->res = from[0];
	return b->pid < 0 ? -1 : 0;
}

static double bencher_run(struct bencher *b, char kind)
{
	double t = -1;

	if (write(b->cmd, &kind, 1) != 1 || read(b->res, &t, sizeof(t)) != (ssize_t)sizeof(t))
		return -1;
	return t;
}

/* Asked to quit explicitly: later children hold copies of the pipes of the
 * earlier ones, so closing them would not be seen. */
static int bencher_stop(struct bencher *b)
{
	char quit = B_QUIT;
	int status = 0;

	if (write(b->cmd, &quit, 1) != 1)
		return -1;
	close(b->cmd);
	close(b->res);
	if (waitpid(b->pid, &status, 0) != b->pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define BENCH_ROUNDS 50 /* 50 x 200000 = 10 M getppid per filter */

static void test_bench(void **state)
{
	/* The smallest possible filter (return ALLOW): the fixed cost of
	 * entering seccomp at all, to compare ward's filter against. */
	static struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	static const char *const names[B_KINDS] = {"getppid", "ioctl FIONREAD", "socket AF_INET"};
	struct ward_seccomp_prog trivial = {.insns = allow_all, .n_insns = 1};
	static double t[B_KINDS][3][BENCH_ROUNDS];
	struct bencher b[3];
	struct ward_seccomp_prog prog;
	struct ward_policy p;
	int kind, round, i;

	(void)state;
	if (getenv("WARD_SECCOMP_BENCH") == NULL) {
		print_message("bench skipped: set WARD_SECCOMP_BENCH=1 to measure\n");
		skip();
	}
	policy_init(&p, WARD_LEVEL_CONFINED, WARD_NET_NONE);
	prepare_ok(&p, NULL, &prog);
	assert_int_equal(bencher_start(&b[0], NULL), 0);
	assert_int_equal(bencher_start(&b[1], &trivial), 0);
	assert_int_equal(bencher_start(&b[2], &prog), 0);
	for (kind = 0; kind < B_KINDS; kind++)
		for (round = 0; round < (kind == B_GETPPID ? BENCH_ROUNDS : 20); round++)
			for (i = 0; i < 3; i++) {
				t[kind][i][round] = bencher_run(&b[i], (char)kind);
				assert_true(t[kind][i][round] > 0);
			}
	for (i = 0; i < 3; i++)
		assert_int_equal(bencher_stop(&b[i]), 0);

	print_message("ward filter: %zu instructions; ns per call (min, median): "
		      "none / allow-all / ward\n",
		      prog.n_insns);
	for (kind = 0; kind < B_KINDS; kind++) {
		int n = kind == B_GETPPID ? BENCH_ROUNDS : 20;
		double min[3], med[3];

		for (i = 0; i < 3; i++) {
			qsort(t[kind][i], (size_t)n, sizeof(double), cmp_double);
			min[i] = t[kind][i][0];
			med[i] = t[kind][i][n / 2];
		}
		print_message("%-15s min %6.1f / %6.1f / %6.1f  x%.3f;  median %6.1f / %6.1f / "
			      "%6.1f  x%.3f\n",
			      names[kind], min[0], min[1], min[2], min[2] / min[0], med[0], med[1],
			      med[2], med[2] / med[0]);
	}
	ward_seccomp_prog_free(&prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_groups_consistent),
		cmocka_unit_test(test_confined_none),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_debug_and_time),
		cmocka_unit_test(test_setid_modes),
		cmocka_unit_test(test_xattr_sizes),
		cmocka_unit_test(test_memfd_exec),
		cmocka_unit_test(test_decode_key),
		cmocka_unit_test(test_invalid_level),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test_setup_teardown(test_cache, cache_setup, cache_teardown),
		cmocka_unit_test(test_install_confined),
		cmocka_unit_test(test_install_errors),
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
