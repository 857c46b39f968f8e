/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure half of ward learn (the manifest writer) and of denial
 * explanation (the decoders). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "entitlements.h"
#include "util.h"
#include "seccomp/learn.h"
#include "seccomp/notify.h"

/* A fake host: directories are the paths listed here, files exist when
 * recorded, everything else is missing. */
static const char *const fake_dirs[] = {"/",
					"/srv",
					"/srv/photos",
					"/srv/out",
					"/opt",
					"/opt/tool",
					"/opt/tool/bin",
					"/home",
					"/home/alice",
					"/home/alice/proj",
					"/home/alice/proj/src",
					"/etc",
					"/usr",
					"/usr/lib",
					"/boot",
					"/tmp/tmp.host",
					NULL};

static int fake_kind(const char *path)
{
	const char *const *d;

	for (d = fake_dirs; *d; d++)
		if (strcmp(*d, path) == 0)
			return 1;
	if (strstr(path, "/new-") != NULL)
		return -1; /* created by the program */
	return 0;
}

static char *manifest(struct ward_learn *l, int *count)
{
	struct ward_learn_context ctx = {
		.command = "app --selftest", .home = "/home/alice", .stat_kind = fake_kind};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*count = ward_learn_write_manifest(l, &ctx, f);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *entitlement)
{
	size_t n = strlen(entitlement);
	const char *p = text;

	while ((p = strstr(p, entitlement)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static void test_quiet_program(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int n;

	(void)state;
	ward_learn_path(l, "/usr/lib/x86_64-linux-gnu/libc.so.6", WARD_LEARN_READ);
	ward_learn_path(l, "/etc/ld.so.cache", WARD_LEARN_READ);
	ward_learn_path(l, "/tmp/new-scratch", WARD_LEARN_WRITE);
	ward_learn_path(l, "/dev/null", WARD_LEARN_WRITE);
	ward_learn_path(l, "/proc/self/status", WARD_LEARN_READ);
	m = manifest(l, &n);
	/* Only resource limits: the default view covers the rest. */
	assert_int_equal(n, 1);
	assert_non_null(strstr(m, "process.limit=16"));
	assert_null(strstr(m, "fs."));
	assert_non_null(strstr(m, "# Learned by `ward learn` from: app --selftest"));
	free(m);
	ward_learn_free(l);
}

/* Issue 13: a directory the host has under /tmp (mktemp -d before the run)
 * is not the program's scratch space: writing into it needs a grant; what
 * the program made in a fresh place under /tmp stays private; a host file
 * directly in /tmp is granted alone, never /tmp itself. */
static void test_host_dirs_under_tmp(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int n;

	(void)state;
	ward_learn_path(l, "/tmp/tmp.host/new-out", WARD_LEARN_WRITE);
	ward_learn_path(l, "/tmp/new-dir/new-file", WARD_LEARN_WRITE);
	ward_learn_path(l, "/tmp/hostfile", WARD_LEARN_WRITE);
	ward_learn_path(l, "/dev/shm/new-seg", WARD_LEARN_WRITE);
	m = manifest(l, &n);
	assert_true(has_line(m, "fs.write=/tmp/tmp.host"));
	assert_true(has_line(m, "fs.write=/tmp/hostfile"));
	assert_false(has_line(m, "fs.write=/tmp"));
	assert_null(strstr(m, "new-dir"));
	assert_null(strstr(m, "/dev/shm"));
	free(m);
	ward_learn_free(l);
}

static void test_paths_generalised(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char path[64], *m;
	int i, n;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/srv/photos/img%03d.jpg", i);
		ward_learn_path(l, path, WARD_LEARN_READ);
	}
	ward_learn_path(l, "/srv/out/new-result.txt", WARD_LEARN_WRITE);
	ward_learn_path(l, "/opt/tool/bin/helper", WARD_LEARN_READ | WARD_LEARN_EXEC);
	ward_learn_path(l, "/home/alice/.apprc", WARD_LEARN_READ);
	m = manifest(l, &n);
	assert_true(has_line(m, "fs.read=/srv/photos"));
	assert_true(has_line(m, "fs.write=/srv/out"));
	assert_true(has_line(m, "fs.exec=/opt/tool/bin"));
	assert_true(has_line(m, "fs.read=/home/alice/.apprc"));
	assert_non_null(strstr(m, "host-specific"));
	/* Never the whole of /srv or the home directory. */
	assert_false(has_line(m, "fs.read=/srv"));
	assert_false(has_line(m, "fs.read=/home/alice"));
	free(m);
	ward_learn_free(l);
}

static void test_subtrees_collapse(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int n;

	(void)state;
	ward_learn_path(l, "/home/alice/proj/src/a.c", WARD_LEARN_READ);
	ward_learn_path(l, "/home/alice/proj/src/b.c", WARD_LEARN_READ);
	ward_learn_path(l, "/home/alice/proj/src/c.c", WARD_LEARN_READ);
	ward_learn_path(l, "/home/alice/proj/README", WARD_LEARN_READ);
	ward_learn_path(l, "/home/alice/proj/Makefile", WARD_LEARN_READ);
	m = manifest(l, &n);
	assert_true(has_line(m, "fs.read=/home/alice/proj"));
	assert_false(has_line(m, "fs.read=/home/alice/proj/src"));
	free(m);
	ward_learn_free(l);
}

static void test_network(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int n, i;

	(void)state;
	ward_learn_inet(l, AF_INET, "127.0.0.1", 8080, true, false);
	m = manifest(l, &n);
	assert_true(has_line(m, "network.loopback"));
	assert_false(has_line(m, "network.host"));
	free(m);
	/* A far destination: one network.connect line, loopback kept. */
	ward_learn_inet(l, AF_INET, "192.0.2.7", 443, false, false);
	ward_learn_inet(l, AF_INET, "192.0.2.7", 443, false, false);
	m = manifest(l, &n);
	assert_true(has_line(m, "network.connect=192.0.2.7:443"));
	assert_true(has_line(m, "network.loopback"));
	assert_false(has_line(m, "network.outbound"));
	assert_non_null(strstr(m, "network.connect=192.0.2.7:443\n"));
	assert_null(strstr(strstr(m, "network.connect=192.0.2.7:443") + 1,
			   "network.connect=192.0.2.7:443"));
	free(m);
	/* A port bound on every address: network.listen; port 0: nothing. */
	ward_learn_inet(l, AF_INET, "0.0.0.0", 8000, false, true);
	ward_learn_inet(l, AF_INET, "0.0.0.0", 0, false, true);
	m = manifest(l, &n);
	assert_true(has_line(m, "network.listen=8000"));
	assert_null(strstr(m, "network.listen=0"));
	free(m);
	/* Too many destinations: network.outbound, and no connect lines. */
	for (i = 1; i <= 9; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", i);
		ward_learn_inet(l, AF_INET, a, 80, false, false);
	}
	m = manifest(l, &n);
	assert_true(has_line(m, "network.outbound"));
	assert_null(strstr(m, "network.connect="));
	assert_true(has_line(m, "network.listen=8000"));
	free(m);
	ward_learn_free(l);

	/* IPv6 destinations cannot be named yet: network.outbound. */
	l = ward_learn_new();
	ward_learn_inet(l, AF_INET6, "2001:db8::1", 443, false, false);
	m = manifest(l, &n);
	assert_true(has_line(m, "network.outbound"));
	free(m);
	ward_learn_free(l);
}

static void test_syscalls(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int n;

	(void)state;
	ward_learn_denied(l, "ptrace", "");
	ward_learn_denied(l, "kexec_load", "");
	m = manifest(l, &n);
	assert_true(has_line(m, "process.debug"));
	assert_non_null(strstr(m, "kexec_load(2): refused, and no entitlement allows it"));
	assert_false(has_line(m, "security.user"));
	free(m);
	/* One security level only: admin covers what user would. */
	ward_learn_denied(l, "chroot", "");
	ward_learn_denied(l, "mount", "");
	m = manifest(l, &n);
	assert_true(has_line(m, "security.admin"));
	assert_false(has_line(m, "security.user"));
	free(m);
	ward_learn_free(l);
}

static void test_resources(void **state)
{
	struct ward_learn *l = ward_learn_new();
	char *m;
	int i, n;

	(void)state;
	for (i = 0; i < 40; i++)
		ward_learn_process(l);
	ward_learn_memory_peak(l, 100ULL << 20);
	m = manifest(l, &n);
	assert_true(has_line(m, "process.limit=256"));
	assert_true(has_line(m, "memory.limit=512M"));
	free(m);
	for (i = 0; i < 400; i++)
		ward_learn_process(l);
	m = manifest(l, &n);
	/* Above the default: no line (the default is smaller). */
	assert_null(strstr(m, "process.limit"));
	free(m);
	ward_learn_free(l);
}

/* What the manifest parser reads back from the writer's output. */
static void parse_back(const char *m, struct ward_request_list *back)
{
	ward_error_t err = NULL;

	memset(back, 0, sizeof(*back));
	if (ward_parse_manifest(back, m, strlen(m), "learned", &err) < 0)
		fail_msg("the learned manifest does not parse: %s\n%s", err->msg, m);
}

static size_t count_named(const struct ward_request_list *l, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += strncmp(l->items[i].name, prefix, strlen(prefix)) == 0;
	return n;
}

/* Issue 11 item 5: a program names a path; it must never become another
 * entitlement, nor a grant a manifest would read as another path. */
static void test_hostile_paths_are_not_written(void **state)
{
	static const char *const hostile[] = {
		"/srv/a\nsecurity.admin\nnetwork.host\nprocess.setuid\n#",
		"/srv/b\rnetwork.host",
		"/srv/c #d",
		"/srv/e\tf",
		"/srv/g\033]0;OWNED\007",
		"/srv/h\xe2\x80\xae"
		"gnp.exe",	/* U+202E RIGHT-TO-LEFT OVERRIDE */
		"/srv/caf\xe9", /* invalid UTF-8 */
		"/srv/trailing ",
		"/srv/\xc2\x9b"
		"C1", /* U+009B, a C1 control */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		struct ward_learn *l = ward_learn_new();
		struct ward_request_list back;
		char *m;
		const char *c;
		int n;

		/* The path exists on the (fake) host as a file: read it. */
		ward_learn_path(l, hostile[i], WARD_LEARN_READ);
		m = manifest(l, &n);
		parse_back(m, &back);
		if (back.n != 1 || strcmp(back.items[0].name, "process.limit") != 0)
			fail_msg("path %zu became entitlements:\n%s", i, m);
		if (strstr(m, "\n# NOT WRITTEN: fs.read=\"") == NULL)
			fail_msg("path %zu: no comment says it was not written:\n%s", i, m);
		for (c = m; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
				fail_msg("path %zu: raw control character in:\n%s", i, m);
		assert_null(strstr(m, "\xe2\x80\xae"));
		assert_int_equal(n, 1);
		ward_request_list_free(&back);
		free(m);
		ward_learn_free(l);
	}
}

static void test_long_path_is_not_written(void **state)
{
	struct ward_learn *l = ward_learn_new();
	struct ward_request_list back;
	char *path = malloc(4000), *m;
	int n;

	(void)state;
	assert_non_null(path);
	memcpy(path, "/srv/", 5);
	memset(path + 5, 'x', 3994);
	path[3999] = '\0';
	ward_learn_path(l, path, WARD_LEARN_READ);
	m = manifest(l, &n);
	parse_back(m, &back);
	assert_int_equal(count_named(&back, "fs."), 0);
	assert_non_null(strstr(m, "# NOT WRITTEN: fs.read="));
	ward_request_list_free(&back);
	free(m);
	free(path);
	ward_learn_free(l);
}

/* Writes into the host's system directories or a whole top-level
 * directory are not proposed: what the program wrote while learning was
 * discarded, and must not become, unread, a grant to change the host. */
static void test_broad_writes_are_not_written(void **state)
{
	static const char *const paths[] = {"/etc/new-passwd", "/usr/lib/new-x",
					    "/boot/new-vmlinuz", "/srv/new-top", "/opt/new-x"};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		struct ward_learn *l = ward_learn_new();
		struct ward_request_list back;
		char *m;
		int n;

		ward_learn_path(l, paths[i], WARD_LEARN_WRITE);
		m = manifest(l, &n);
		parse_back(m, &back);
		if (count_named(&back, "fs.") != 0)
			fail_msg("%s became a grant:\n%s", paths[i], m);
		assert_non_null(strstr(m, "# NOT WRITTEN: fs.write=/"));
		ward_request_list_free(&back);
		free(m);
		ward_learn_free(l);
	}
}

/* The example of a written line is the program's name for a file: escaped,
 * so it stays in its comment. */
static void test_example_is_escaped(void **state)
{
	struct ward_learn *l = ward_learn_new();
	struct ward_request_list back;
	char *m;
	int n;

	(void)state;
	ward_learn_path(l, "/srv/out/new-a\nsecurity.admin\nnetwork.host\n#", WARD_LEARN_WRITE);
	m = manifest(l, &n);
	parse_back(m, &back);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.items[0].name, "fs.write");
	assert_string_equal(back.items[0].value, "/srv/out");
	assert_string_equal(back.items[1].name, "process.limit");
	assert_non_null(strstr(m, "e.g. /srv/out/new-a\\nsecurity.admin\\nnetwork.host\\n#\n"));
	ward_request_list_free(&back);
	free(m);
	ward_learn_free(l);
}

/* The other direction: names a manifest can hold are written as they are
 * and read back exactly. */
static void test_unusual_names_round_trip(void **state)
{
	static const char *const names[] = {"/srv/a b=c,d#e", "/srv/...",
					    "/srv/caf\xc3\xa9 \xe6\x96\x87", "/srv/back\\slash"};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct ward_learn *l = ward_learn_new();
		struct ward_request_list back;
		char *m;
		int n;

		ward_learn_path(l, names[i], WARD_LEARN_READ);
		m = manifest(l, &n);
		parse_back(m, &back);
		assert_int_equal(back.n, 2);
		assert_string_equal(back.items[0].name, "fs.read");
		assert_string_equal(back.items[0].value, names[i]);
		ward_request_list_free(&back);
		free(m);
		ward_learn_free(l);
	}
}

/* A call is observed into a recorder of its own, merged once the kernel
 * confirms the caller: merging gives what direct recording gives. */
static void test_merge(void **state)
{
	struct ward_learn *direct = ward_learn_new(), *merged = ward_learn_new();
	struct ward_learn *one;
	char *a, *b;
	int n, i;

	(void)state;
	for (i = 0; i < 5; i++) {
		ward_learn_path(direct, "/srv/photos/a.jpg", WARD_LEARN_READ);
		ward_learn_denied(direct, "ptrace", "");
		ward_learn_inet(direct, AF_INET, "192.0.2.7", 443, false, false);
		ward_learn_process(direct);
		one = ward_learn_new();
		ward_learn_path(one, "/srv/photos/a.jpg", WARD_LEARN_READ);
		ward_learn_denied(one, "ptrace", "");
		ward_learn_inet(one, AF_INET, "192.0.2.7", 443, false, false);
		ward_learn_process(one);
		ward_learn_merge(merged, one);
		ward_learn_free(one);
	}
	a = manifest(direct, &n);
	b = manifest(merged, &n);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ward_learn_free(direct);
	ward_learn_free(merged);
}

static void test_decoders(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(ward_af_name(AF_INET), "AF_INET");
	assert_string_equal(ward_af_name(AF_PACKET), "AF_PACKET");
	assert_null(ward_af_name(250));
	assert_string_equal(ward_clone_flags_text(0x10000000 | 0x00020000, buf, sizeof(buf)),
			    "CLONE_NEWUSER|CLONE_NEWNS");
	assert_string_equal(ward_clone_flags_text(0x100, buf, sizeof(buf)), "0x100");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_program),
		cmocka_unit_test(test_host_dirs_under_tmp),
		cmocka_unit_test(test_paths_generalised),
		cmocka_unit_test(test_subtrees_collapse),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_decoders),
		cmocka_unit_test(test_hostile_paths_are_not_written),
		cmocka_unit_test(test_long_path_is_not_written),
		cmocka_unit_test(test_example_is_escaped),
		cmocka_unit_test(test_unusual_names_round_trip),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_broad_writes_are_not_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
