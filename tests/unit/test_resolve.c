/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "entitlements.h"

static const struct ward_resolve_ctx ctx = {
	.physical_memory = 8ULL << 30,
	.home = "/home/alice",
};

/* Resolve a list of --allow texts (NULL-terminated). */
static int resolve(const char *const *allow, struct ward_policy *p, ward_error_t *err)
{
	struct ward_request_list l = {0};
	int r = 0;

	for (; *allow && r == 0; allow++)
		r = ward_parse_allow(&l, *allow, "--allow", err);
	if (r == 0)
		r = ward_resolve(&l, &ctx, p, err);
	ward_request_list_free(&l);
	return r;
}

static void expect_error(const char *const *allow, const char *want)
{
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	assert_int_equal(resolve(allow, &p, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	ward_error_free(&err);
}

static void test_defaults(void **state)
{
	const char *none[] = {NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(none, &p, &err), 0);
	assert_int_equal(p.net, WARD_NET_NONE);
	assert_int_equal(p.level, WARD_LEVEL_CONFINED);
	assert_true(p.caps == 0);
	assert_true(p.no_new_privs);
	assert_false(p.allow_ns_clone);
	assert_true(p.socket_families == (1ULL << AF_UNIX));
	assert_int_equal(p.pids_max, 1024);
	assert_true(p.memory_max == 2ULL << 30); /* a quarter of 8 GiB */
	assert_int_equal(p.nofile, 1024);
	assert_int_equal(p.cpu_quota_us, 0);
	assert_int_equal(p.namespaces, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
					       CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
					       CLONE_NEWTIME);
	/* The defaults are listed as grants, so explain shows them. */
	assert_int_equal(p.n_grants, 2);
	assert_non_null(ward_policy_find(&p, "network.none"));
	assert_string_equal(ward_policy_find(&p, "security.confined")->origin, "default");
	ward_policy_free(&p);
}

static void test_values(void **state)
{
	const char *allow[] = {"process.limit=64", "memory.limit=512M", "cpu.limit=0.5",
			       "files.limit=4096", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(allow, &p, &err), 0);
	assert_int_equal(p.pids_max, 64);
	assert_true(p.memory_max == 512ULL << 20);
	assert_int_equal(p.cpu_quota_us, 50000);
	assert_int_equal(p.cpu_period_us, 100000);
	assert_int_equal(p.nofile, 4096);
	ward_policy_free(&p);
}

static void test_paths(void **state)
{
	const char *allow[] = {"fs.write=/srv/data", "fs.read=~/Photos",  "fs.read=/srv//data/",
			       "fs.exec=/opt/tool",  "fs.read=/opt/tool", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(allow, &p, &err), 0);
	assert_int_equal(p.n_paths, 3);
	/* Sorted by path: parents before children. */
	assert_string_equal(p.paths[0].path, "/home/alice/Photos");
	assert_int_equal(p.paths[0].access, WARD_FS_READ);
	assert_string_equal(p.paths[1].path, "/opt/tool");
	assert_int_equal(p.paths[1].access, WARD_FS_READ | WARD_FS_EXEC);
	assert_string_equal(p.paths[2].path, "/srv/data");
	assert_int_equal(p.paths[2].access, WARD_FS_READ | WARD_FS_WRITE);
	ward_policy_free(&p);
}

static void test_levels(void **state)
{
	const char *user[] = {"security.user", NULL};
	const char *admin[] = {"security.admin", NULL};
	const char *lo[] = {"network.loopback", NULL};
	const char *host[] = {"network.host", NULL};
	const char *time[] = {"host.time", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(user, &p, &err), 0);
	assert_true(p.caps & (1ULL << CAP_CHOWN));
	assert_true(p.caps & (1ULL << CAP_NET_BIND_SERVICE));
	assert_false(p.caps & (1ULL << CAP_SYS_ADMIN));
	/* Docker's 14 less CAP_FSETID and CAP_SETFCAP (a set-id file or a file
	 * capability left in a fs.write grant). */
	assert_false(p.caps & (1ULL << CAP_FSETID));
	assert_false(p.caps & (1ULL << CAP_SETFCAP));
	assert_int_equal(__builtin_popcountll(p.caps), 12);
	ward_policy_free(&p);

	assert_int_equal(resolve(admin, &p, &err), 0);
	assert_true(p.caps & (1ULL << CAP_SYS_ADMIN));
	assert_false(p.caps & (1ULL << CAP_FSETID));
	/* The kernel requires CAP_SETFCAP to map uid 0 in a nested user
	 * namespace; the filter refuses file capabilities instead. */
	assert_true(p.caps & (1ULL << CAP_SETFCAP));
	assert_true(p.allow_ns_clone);
	ward_policy_free(&p);

	assert_int_equal(resolve(lo, &p, &err), 0);
	assert_int_equal(p.net, WARD_NET_LOOPBACK);
	assert_true(p.socket_families & (1ULL << AF_INET));
	assert_true(p.socket_families & (1ULL << AF_INET6));
	assert_true(p.namespaces & CLONE_NEWNET);
	ward_policy_free(&p);

	assert_int_equal(resolve(host, &p, &err), 0);
	assert_false(p.namespaces & CLONE_NEWNET);
	ward_policy_free(&p);

	assert_int_equal(resolve(time, &p, &err), 0);
	assert_false(p.namespaces & CLONE_NEWUSER);
	assert_false(p.namespaces & CLONE_NEWTIME);
	assert_true(p.caps == (1ULL << CAP_SYS_TIME));
	ward_policy_free(&p);
}

/* network.admin: two capabilities in a namespace of the sandbox's own;
 * combined with a way out, the way out is unchanged. */
static void test_net_admin(void **state)
{
	const char *alone[] = {"network.admin", NULL};
	const char *out[] = {"network.admin", "network.outbound", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(alone, &p, &err), 0);
	assert_true(p.net_admin);
	assert_int_equal(p.net, WARD_NET_NONE);
	assert_true(p.caps == ((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW)));
	assert_true(p.namespaces & CLONE_NEWNET);
	assert_true(p.namespaces & CLONE_NEWUSER);
	assert_true(p.socket_families & (1ULL << AF_PACKET));
	assert_true(p.socket_families & (1ULL << AF_NETLINK));
	assert_false(p.allow_ns_clone);
	ward_policy_free(&p);

	assert_int_equal(resolve(out, &p, &err), 0);
	assert_true(p.net_admin);
	assert_int_equal(p.net, WARD_NET_OUTBOUND);
	ward_policy_free(&p);
}

/* host.devices.admin: fuse and tun as device grants, one of them by value,
 * loop and anything else refused. */
static void test_devices_admin(void **state)
{
	const char *both[] = {"host.devices.admin", NULL};
	const char *tun[] = {"host.devices.admin=tun", NULL};
	const char *mixed[] = {"host.devices.admin=fuse", "host.devices=/dev/fuse",
			       "host.devices.admin", NULL};
	const char *loop[] = {"host.devices.admin=loop", NULL};
	const char *other[] = {"host.devices.admin=sda", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(both, &p, &err), 0);
	assert_int_equal(p.dev_admin, WARD_DEVADMIN_FUSE | WARD_DEVADMIN_TUN);
	assert_int_equal(p.n_devices, 2);
	assert_string_equal(p.devices[0].path, "/dev/fuse");
	assert_string_equal(p.devices[1].path, "/dev/net/tun");
	assert_int_equal(p.caps, 0);
	ward_policy_free(&p);

	assert_int_equal(resolve(tun, &p, &err), 0);
	assert_int_equal(p.dev_admin, WARD_DEVADMIN_TUN);
	assert_int_equal(p.n_devices, 1);
	assert_string_equal(p.devices[0].path, "/dev/net/tun");
	ward_policy_free(&p);

	assert_int_equal(resolve(mixed, &p, &err), 0);
	assert_int_equal(p.n_devices, 2);
	ward_policy_free(&p);

	expect_error(loop, "host.devices.admin=loop: loop devices are not granted");
	expect_error(other, "host.devices.admin=sda: the devices are fuse and tun");
}

static void test_order_independent(void **state)
{
	const char *a[] = {"fs.read=/b",      "network.loopback", "fs.write=/a",
			   "process.limit=9", "fs.read=/a",	  NULL};
	const char *b[] = {"fs.read=/a", "process.limit=9",  "fs.write=/a",
			   "fs.read=/b", "network.loopback", NULL};
	struct ward_policy p = {0}, q = {0};
	ward_error_t err = NULL;
	size_t i;

	(void)state;
	assert_int_equal(resolve(a, &p, &err), 0);
	assert_int_equal(resolve(b, &q, &err), 0);
	assert_int_equal(p.n_grants, q.n_grants);
	for (i = 0; i < p.n_grants; i++) {
		assert_int_equal(p.grants[i].def, q.grants[i].def);
		assert_string_equal(p.grants[i].value ? p.grants[i].value : "",
				    q.grants[i].value ? q.grants[i].value : "");
	}
	assert_int_equal(p.n_paths, q.n_paths);
	for (i = 0; i < p.n_paths; i++) {
		assert_string_equal(p.paths[i].path, q.paths[i].path);
		assert_int_equal(p.paths[i].access, q.paths[i].access);
	}
	assert_true(p.caps == q.caps && p.socket_families == q.socket_families);
	ward_policy_free(&p);
	ward_policy_free(&q);
}

static void test_duplicates(void **state)
{
	const char *a[] = {"process.limit=9", "process.limit=9", "fs.read=/x", "fs.read=/x", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(a, &p, &err), 0);
	assert_int_equal(p.n_paths, 1);
	/* process.limit, fs.read, and the two defaults */
	assert_int_equal(p.n_grants, 4);
	ward_policy_free(&p);
}

static void test_errors(void **state)
{
	const char *unknown[] = {"netwrok.none", NULL};
	const char *nohint[] = {"zzzzzzzzzzzz", NULL};
	const char *domain[] = {"network", NULL};
	const char *unavailable[] = {"process.host", NULL};
	const char *admin_host[] = {"network.admin", "network.host", NULL};
	const char *admin_time[] = {"network.admin", "host.time", NULL};
	const char *conflict[] = {"network.none", "network.host", NULL};
	const char *level[] = {"security.user", "security.admin", NULL};
	const char *twice[] = {"process.limit=9", "process.limit=10", NULL};
	const char *novalue[] = {"fs.read", NULL};
	const char *value[] = {"network.none=1", NULL};
	const char *size[] = {"memory.limit=lots", NULL};
	const char *small[] = {"memory.limit=1K", NULL};
	const char *count[] = {"process.limit=0", NULL};
	const char *cpus[] = {"cpu.limit=abc", NULL};
	const char *cpus0[] = {"cpu.limit=0.001", NULL};
	const char *rel[] = {"fs.read=srv", NULL};
	const char *dotdot[] = {"fs.read=/srv/../etc", NULL};
	const char *root[] = {"fs.write=/", NULL};
	const char *proc[] = {"fs.read=/proc/1", NULL};
	const char *dev[] = {"fs.read=/dev/sda", NULL};
	const char *notdev[] = {"host.devices=/etc/passwd", NULL};
	const char *files[] = {"files.limit=3", NULL};
	const char *timeuser[] = {"host.time", "security.user", NULL};

	(void)state;
	expect_error(unknown, "--allow: unknown entitlement \"netwrok.none\" (did you mean "
			      "\"network.none\"?)");
	expect_error(nohint, "`ward entitlements` lists them all");
	expect_error(domain, "did you mean \"network.none\"?");
	expect_error(unavailable, "\"process.host\" is not yet available");
	expect_error(admin_host, "network.admin conflicts with network.host");
	expect_error(admin_time, "network.admin conflicts with host.time");
	expect_error(conflict, "network.none conflicts with network.host (--allow): choose one "
			       "network entitlement");
	expect_error(level, "choose one security entitlement");
	expect_error(twice, "process.limit=9 conflicts with process.limit=10");
	expect_error(novalue, "fs.read needs a value: fs.read=PATH");
	expect_error(value, "network.none takes no value");
	expect_error(size, "memory.limit=lots: expected a size such as 512M");
	expect_error(small, "give at least 4M");
	expect_error(count, "process.limit=0: expected a whole number greater than 0");
	expect_error(cpus, "cpu.limit=abc: expected a number of processors");
	expect_error(cpus0, "the smallest limit is 0.01");
	expect_error(rel, "the path must be absolute");
	expect_error(dotdot, "\"..\" is not allowed");
	expect_error(root, "granting the whole host filesystem is not supported");
	expect_error(proc, "the sandbox has its own /proc");
	expect_error(dev, "device nodes are granted with host.devices=/dev/sda");
	expect_error(notdev, "name a device node under /dev");
	expect_error(files, "files.limit=3: must be between 16");
	expect_error(timeuser, "host.time cannot be combined with security.user");
}

static void test_manifest_origin(void **state)
{
	struct ward_request_list l = {0};
	struct ward_policy p = {0};
	ward_error_t err = NULL;
	const char *text = "# demo\nnetwork.none\n\nnetwork.host\n";

	(void)state;
	assert_int_equal(ward_parse_manifest(&l, text, strlen(text), "app.ent", &err), 0);
	assert_int_equal(ward_resolve(&l, &ctx, &p, &err), -1);
	/* Both places are named, whichever order they are visited in. */
	assert_non_null(strstr(err->msg, "app.ent:2"));
	assert_non_null(strstr(err->msg, "app.ent:4"));
	ward_error_free(&err);
	ward_request_list_free(&l);
}

/* The scratch space runs what the program wrote unless fs.scratch.noexec;
 * /tmp itself is never granted by fs.*, only by host.tmp. */
static void test_scratch(void **state)
{
	const char *none[] = {NULL};
	const char *strict[] = {"fs.scratch.noexec", NULL};
	const char *host[] = {"host.tmp", NULL};
	const char *w[] = {"fs.write=/tmp", NULL};
	const char *e[] = {"fs.exec=/tmp/", NULL};
	const char *r[] = {"fs.read=//tmp", NULL};
	const char *sub[] = {"fs.write=/tmp/build", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(none, &p, &err), 0);
	assert_true(p.scratch_exec);
	ward_policy_free(&p);
	assert_int_equal(resolve(strict, &p, &err), 0);
	assert_false(p.scratch_exec);
	assert_non_null(ward_policy_find(&p, "fs.scratch.noexec"));
	ward_policy_free(&p);
	assert_int_equal(resolve(host, &p, &err), 0);
	assert_int_equal(p.n_paths, 1);
	assert_string_equal(p.paths[0].path, "/tmp");
	assert_int_equal(p.paths[0].access, WARD_FS_READ | WARD_FS_WRITE);
	ward_policy_free(&p);
	expect_error(w, "fs.write=/tmp would replace the sandbox's private /tmp with the host's");
	expect_error(w, "grant host.tmp [dangerous]");
	expect_error(e, "fs.exec=/tmp/ would replace");
	expect_error(r, "fs.read=//tmp would replace");
	assert_int_equal(resolve(sub, &p, &err), 0);
	assert_string_equal(p.paths[0].path, "/tmp/build");
	ward_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_net_admin),
		cmocka_unit_test(test_devices_admin),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_manifest_origin),
		cmocka_unit_test(test_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
