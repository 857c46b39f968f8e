/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bundle manifest and the root filesystem digest (pure code). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle/bundle.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_err(ward_error_t *err, const char *want)
{
	assert_non_null(*err);
	if (strstr((*err)->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", (*err)->msg, want);
	ward_error_free(err);
}

static void test_parse_full(void **state)
{
	static const char text[] = "#@ward-bundle 1\n"
				   "#@name hello\n"
				   "#@version 1.0-2\n"
				   "#@command /bin/hello\n"
				   "#@arg --loud\n"
				   "#@arg two words\n"
				   "#@env LANG=C.UTF-8\n"
				   "#@cwd /srv\n"
				   "#@rootfs " DIGEST "\n"
				   "\n"
				   "# what it may do\n"
				   "network.loopback\n"
				   "fs.read=/srv/data   # comment\n";
	struct ward_bundle_manifest m;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_manifest_parse(text, strlen(text), "app.ward:manifest", &m, &err), 0);
	assert_string_equal(m.name, "hello");
	assert_string_equal(m.version, "1.0-2");
	assert_int_equal(m.argc, 3);
	assert_string_equal(m.argv[0], "/bin/hello");
	assert_string_equal(m.argv[2], "two words");
	assert_null(m.argv[3]);
	assert_int_equal(m.n_env, 1);
	assert_string_equal(m.env[0], "LANG=C.UTF-8");
	assert_string_equal(m.cwd, "/srv");
	assert_int_equal(m.rootfs_digest[0], 0x01);
	assert_int_equal(m.rootfs_digest[31], 0xef);
	assert_int_equal(m.reqs.n, 2);
	assert_string_equal(m.reqs.items[0].name, "network.loopback");
	assert_string_equal(m.reqs.items[0].origin, "app.ward:manifest:12");
	assert_string_equal(m.reqs.items[1].value, "/srv/data");
	ward_manifest_free(&m);
}

static void parse_error(const char *text, const char *want)
{
	struct ward_bundle_manifest m;
	ward_error_t err = NULL;

	if (ward_manifest_parse(text, strlen(text), "m", &m, &err) == 0)
		fail_msg("accepted: %.200s", text);
	expect_err(&err, want);
}

#define HEAD "#@ward-bundle 1\n#@command /x\n#@rootfs " DIGEST "\n"

static void test_parse_errors(void **state)
{
	char *huge;

	(void)state;
	parse_error("", "not a bundle manifest");
	parse_error("#@ward-bundle 2\n", "not a bundle manifest");
	parse_error("network.none\n", "not a bundle manifest");
	parse_error("#@ward-bundle 1\n#@rootfs " DIGEST "\n", "no #@command");
	parse_error("#@ward-bundle 1\n#@command /x\n", "no #@rootfs");
	parse_error(HEAD "#@command /y\n", "m:4: #@command given twice");
	parse_error("#@ward-bundle 1\n#@arg x\n", "#@arg before #@command");
	parse_error(HEAD "#@rootfs " DIGEST "\n", "#@rootfs given twice");
	parse_error("#@ward-bundle 1\n#@command /x\n#@rootfs sha256:00\n", "64 lower-case hex");
	parse_error("#@ward-bundle 1\n#@command /x\n#@rootfs "
		    "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
		    "64 lower-case hex");
	parse_error(HEAD "#@name two words\n", "#@name");
	parse_error(HEAD "#@name a\n#@name b\n", "given twice");
	parse_error(HEAD "#@env NOEQUALS\n", "NAME=VALUE");
	parse_error(HEAD "#@env 1X=y\n", "NAME=VALUE");
	parse_error(HEAD "#@cwd relative\n", "absolute");
	parse_error(HEAD "#@cwd /a/../b\n", "absolute");
	parse_error(HEAD "#@comand /x\n", "unknown header \"#@comand\"");
	parse_error(HEAD "  #@name x\n", "start at the beginning");
	parse_error(HEAD "#@ward-bundle 1\n", "first line");
	parse_error(HEAD "network.none\r\n", "carriage return");
	parse_error(HEAD "#@arg a\x01b\n", "control character");
	/* Entitlement values and comments reach messages too: no byte of the
	 * manifest may drive a terminal. */
	parse_error(HEAD "fs.read=/srv/\x1b[2J\n", "m:4: control character");
	parse_error(HEAD "# \x1b]0;title\x07\n", "m:4: control character");
	parse_error(HEAD "fs.read=/srv/\xe2\x80\xae\n", "bidirectional override");
	parse_error(HEAD "fs.read=/srv/\xc2\x9b\n", "control character");
	parse_error(HEAD "fs.read=/srv/\xff\n", "invalid UTF-8");
	parse_error(HEAD "fs.read=/srv/\x7f\n", "control character");
	{
		/* UTF-8, tabs and backslashes are text. */
		static const char ok[] = HEAD "fs.read=/srv/caf\xc3\xa9\\x\t# note\n";
		struct ward_bundle_manifest m;
		ward_error_t err = NULL;

		assert_int_equal(ward_manifest_parse(ok, sizeof(ok) - 1, "m", &m, &err), 0);
		assert_string_equal(m.reqs.items[0].value, "/srv/caf\xc3\xa9\\x");
		ward_manifest_free(&m);
	}
	/* Entitlements are split here and resolved later (names, values). */
	parse_error(HEAD "fs.read=\n", "has '=' but no value");
	{
		static const char nul[] = HEAD "a\0b\n";

		struct ward_bundle_manifest m;
		ward_error_t err = NULL;

		assert_int_equal(ward_manifest_parse(nul, sizeof(nul) - 1, "m", &m, &err), -1);
		expect_err(&err, "NUL");
	}
	huge = calloc(1, WARD_BUNDLE_MANIFEST_MAX + 1000);
	memcpy(huge, HEAD, strlen(HEAD));
	memset(huge + strlen(HEAD), '\n', WARD_BUNDLE_MANIFEST_MAX);
	parse_error(huge, "larger than");
	free(huge);
}

static void test_compose(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "echo hi", NULL};
	char *env[] = {"A=1"};
	uint8_t d[32] = {0xab};
	struct ward_manifest_input in = {
		.name = "app",
		.argv = argv,
		.env = env,
		.n_env = 1,
		.rootfs_digest = d,
		.entitlements = "network.loopback",
		.entitlements_len = 16,
	};
	struct ward_bundle_manifest m;
	ward_error_t err = NULL;
	size_t len;
	char *text;

	(void)state;
	text = ward_manifest_compose(&in, &len, &err);
	assert_non_null(text);
	assert_string_equal(text,
			    "#@ward-bundle 1\n"
			    "#@name app\n"
			    "#@command /bin/sh\n"
			    "#@arg -c\n"
			    "#@arg echo hi\n"
			    "#@env A=1\n"
			    "#@rootfs sha256:ab000000000000000000000000000000000000000000000000000"
			    "00000000000\n"
			    "\n"
			    "network.loopback\n");
	/* ward's entitlement parser reads the manifest as it is. */
	{
		struct ward_request_list l = {0};

		assert_int_equal(ward_parse_manifest(&l, text, len, "manifest", &err), 0);
		assert_int_equal(l.n, 1);
		ward_request_list_free(&l);
	}
	assert_int_equal(ward_manifest_parse(text, len, "m", &m, &err), 0);
	assert_int_equal(m.argc, 3);
	ward_manifest_free(&m);
	free(text);

	/* A newline inside an argument would forge a header line: refused. */
	argv[2] = "x\n#@rootfs sha256:00";
	assert_null(ward_manifest_compose(&in, &len, &err));
	ward_error_free(&err);
	argv[2] = "ok";
	in.entitlements = "#@cwd /x\n#@cwd /y\n";
	in.entitlements_len = strlen(in.entitlements);
	assert_null(ward_manifest_compose(&in, &len, &err));
	expect_err(&err, "#@cwd given twice");
}

static void add(struct ward_tree *t, const char *path, char type, uint32_t mode)
{
	struct ward_tree_entry *e = ward_tree_push(t);

	e->path = strdup(path);
	e->type = type;
	e->mode = mode;
	if (type == 'l')
		e->target = strdup("/etc/../x y");
}

static void test_digest_listing(void **state)
{
	struct ward_tree t = {0}, u = {0};
	ward_error_t err = NULL;
	uint8_t d1[32], d2[32];
	char *l;

	(void)state;
	/* Insertion order does not matter: the tree is sorted. */
	add(&t, "/bin/sh", 'l', 0777);
	add(&t, "/bin", 'd', 0755);
	add(&t, "/", 'd', 0755);
	add(&t, "/a b", 'f', 04755);
	assert_int_equal(ward_tree_finish(&t, "t", &err), 0);
	add(&u, "/", 'd', 0755);
	add(&u, "/a b", 'f', 04755);
	add(&u, "/bin", 'd', 0755);
	add(&u, "/bin/sh", 'l', 0777);
	assert_int_equal(ward_tree_finish(&u, "u", &err), 0);
	ward_tree_digest(&t, d1);
	ward_tree_digest(&u, d2);
	assert_memory_equal(d1, d2, 32);
	l = ward_tree_listing(&t, NULL);
	assert_string_equal(l, "ward-rootfs-digest 1\n"
			       "/ d 0755 0 0\n"
			       "/a\\x20b f 4755 0 0 0 "
			       "0000000000000000000000000000000000000000000000000000000000000000\n"
			       "/bin d 0755 0 0\n"
			       "/bin/sh l 0777 0 0 /etc/../x\\x20y\n");
	free(l);
	/* Any change of mode, owner or content changes the digest. */
	u.items[1].mode = 0755;
	ward_tree_digest(&u, d2);
	assert_memory_not_equal(d1, d2, 32);
	u.items[1].mode = 04755;
	u.items[1].uid = 1;
	ward_tree_digest(&u, d2);
	assert_memory_not_equal(d1, d2, 32);
	u.items[1].uid = 0;
	u.items[1].sha256[0] = 1;
	ward_tree_digest(&u, d2);
	assert_memory_not_equal(d1, d2, 32);
	ward_tree_free(&t);
	ward_tree_free(&u);
}

static void tree_error(const char *const *paths, const char *want)
{
	struct ward_tree t = {0};
	ward_error_t err = NULL;

	for (; *paths; paths++)
		add(&t, *paths + 1, (*paths)[0], 0755);
	assert_int_equal(ward_tree_finish(&t, "t", &err), -1);
	expect_err(&err, want);
	ward_tree_free(&t);
}

static void test_tree_errors(void **state)
{
	static const char *const no_root[] = {"d/a", NULL};
	static const char *const dup[] = {"d/", "f/a", "f/a", NULL};
	static const char *const orphan[] = {"d/", "f/a/b", NULL};
	static const char *const in_file[] = {"d/", "f/a", "f/a/b", NULL};
	static const char *const dots[] = {"d/", "f/a/../b", NULL};

	(void)state;
	tree_error(no_root, "no root directory");
	tree_error(dup, "appears twice");
	tree_error(orphan, "not a directory");
	tree_error(in_file, "not a directory");
	tree_error(dots, "invalid path");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),  cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_compose),	    cmocka_unit_test(test_digest_listing),
		cmocka_unit_test(test_tree_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
