/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rootless mode's pure parts: /etc/subuid parsing, and sandboxes made in a
 * delegated cgroup of a v2 stand-in tree (never made or removed by ward). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup/cgroup.h"
#include "rootless.h"
#include "util.h"

static void test_subid_parse(void **state)
{
	struct ward_subid s;
	const char *text = "# comment\n"
			   "alice:100000:65536\n"
			   "bob:165536:65536\n"
			   "1002:231072:1000\n"
			   "bad:0:65536\n"
			   "worse:5\n"
			   "carol:x:65536\n";

	(void)state;
	assert_int_equal(ward_subid_parse(text, "alice", 1000, &s), 0);
	assert_int_equal(s.start, 100000);
	assert_int_equal(s.count, 65536);
	assert_int_equal(ward_subid_parse(text, "bob", 1001, &s), 0);
	assert_int_equal(s.start, 165536);
	/* By uid when the name is not there. */
	assert_int_equal(ward_subid_parse(text, "dave", 1002, &s), 0);
	assert_int_equal(s.start, 231072);
	assert_int_equal(s.count, 1000);
	/* Malformed lines and a start of 0 are never taken. */
	assert_int_equal(ward_subid_parse(text, "bad", 5000, &s), -ENOENT);
	assert_int_equal(ward_subid_parse(text, "worse", 5000, &s), -ENOENT);
	assert_int_equal(ward_subid_parse(text, "carol", 5000, &s), -ENOENT);
	assert_int_equal(ward_subid_parse(text, "nobody", 5000, &s), -ENOENT);
	assert_int_equal(ward_subid_parse("", "alice", 1000, &s), -ENOENT);
	/* A range that would pass 2^32. */
	assert_int_equal(ward_subid_parse("eve:4294967000:65536\n", "eve", 1, &s), -ENOENT);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_delegated_parent_standin(void **state)
{
	char tmp[] = "/tmp/ward-test-rootless-XXXXXX";
	char mine[600];
	struct ward_policy p = {0};
	struct ward_cgroup *cg = NULL;
	struct ward_cgroup_where w = {.parent = "ward-users/user-4242", .no_devices = true};
	ward_error_t err = NULL;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	write_file(tmp, "cgroup.controllers", "cpu memory pids\n");
	w.root = tmp;
	p.pids_max = 10;
	p.memory_max = 64 << 20;
	/* Not delegated: the parent is never made by ward. */
	assert_int_equal(ward_cgroup_create_at(&p, &w, "run-1", &cg, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "ward-users/user-4242"));
	ward_error_free(&err);
	assert_false(exists(tmp, "ward-users"));
	/* Delegated: the sandbox is made in it, and removed; the parent stays. */
	snprintf(mine, sizeof(mine), "%s/ward-users", tmp);
	assert_int_equal(mkdir(mine, 0755), 0);
	snprintf(mine, sizeof(mine), "%s/ward-users/user-4242", tmp);
	assert_int_equal(mkdir(mine, 0755), 0);
	assert_int_equal(ward_cgroup_create_at(&p, &w, "run-1", &cg, &err), 0);
	assert_true(exists(mine, "run-1/pids.max"));
	assert_int_equal(ward_cgroup_destroy(cg, &err), 0);
	assert_false(exists(mine, "run-1"));
	assert_true(exists(tmp, "ward-users/user-4242"));
	/* ward delegate --undo on the stand-in removes it. */
	{
		char *done = NULL;

		assert_int_equal(ward_cgroup_delegate(tmp, 4242, 4242, true, &done, &err), 0);
		free(done);
	}
	assert_false(exists(tmp, "ward-users"));
	{
		cleanup_free char *rm = ward_xasprintf("rm -rf %s", tmp);

		(void)!system(rm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subid_parse),
		cmocka_unit_test(test_delegated_parent_standin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
