/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "entitlements.h"

static int parse(const char *text, struct ward_request_list *l, ward_error_t *err)
{
	return ward_parse_manifest(l, text, strlen(text), "app.ent", err);
}

static void test_manifest_basic(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(parse("# a comment\n"
			       "\n"
			       "network.loopback\n"
			       "  fs.read=/srv/photos   # trailing comment\n"
			       "fs.write=/srv/a#b\n"
			       "process.limit=64\r\n",
			       &l, &err),
			 0);
	assert_null(err);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[0].name, "network.loopback");
	assert_null(l.items[0].value);
	assert_string_equal(l.items[0].origin, "app.ent:3");
	assert_string_equal(l.items[1].name, "fs.read");
	assert_string_equal(l.items[1].value, "/srv/photos");
	assert_string_equal(l.items[1].origin, "app.ent:4");
	/* '#' inside a value is part of it. */
	assert_string_equal(l.items[2].value, "/srv/a#b");
	assert_string_equal(l.items[3].value, "64");
	assert_string_equal(l.items[3].origin, "app.ent:6");
	ward_request_list_free(&l);
}

static void expect_error(const char *text, const char *want)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	assert_int_equal(parse(text, &l, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	ward_error_free(&err);
	ward_request_list_free(&l);
}

static void test_manifest_errors(void **state)
{
	(void)state;
	expect_error("network.none\n=value\n", "app.ent:2: missing entitlement name");
	expect_error("fs.read=\n", "app.ent:1: \"fs.read\" has '=' but no value");
	expect_error("fs.read /srv\n", "app.ent:1: white space");
	expect_error("Network.none\n", "app.ent:1: entitlement names are lower case");
	expect_error("--allow fs.read=/x\n", "looks like a command-line flag");
	expect_error("net$work\n", "invalid character '$'");
}

static void test_manifest_nul(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;
	const char text[] = "network.none\nfs.read=/a\0b\n";

	(void)state;
	assert_int_equal(ward_parse_manifest(&l, text, sizeof(text) - 1, "m", &err), -1);
	assert_non_null(strstr(err->msg, "m:2: NUL byte"));
	ward_error_free(&err);
	ward_request_list_free(&l);
}

static void test_manifest_too_big(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;
	size_t len = (1u << 20) + 1;
	char *big = malloc(len);

	(void)state;
	memset(big, '\n', len);
	assert_int_equal(ward_parse_manifest(&l, big, len, "big", &err), -1);
	assert_non_null(strstr(err->msg, "larger than"));
	ward_error_free(&err);
	free(big);
}

static void test_allow(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_parse_allow(&l, "memory.limit=512M", "--allow", &err), 0);
	assert_int_equal(ward_parse_allow(&l, " network.host ", "--allow", &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].value, "512M");
	assert_string_equal(l.items[1].name, "network.host");
	assert_int_equal(ward_parse_allow(&l, "", "--allow", &err), -1);
	assert_non_null(strstr(err->msg, "empty entitlement"));
	ward_error_free(&err);
	assert_int_equal(ward_parse_allow(&l, "a\nb", "--allow", &err), -1);
	ward_error_free(&err);
	ward_request_list_free(&l);
}

/* Values are plain text, as shown to whoever reads the manifest: no control
 * character, no bidirectional override, no invalid UTF-8.  Messages quote
 * the text escaped. */
static void test_manifest_plain_text(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;
	const char *ok_text = "fs.read=/srv/caf\xc3\xa9 \xe6\x96\x87\n"
			      "fs.read=/srv/back\\slash\n"
			      "fs.read=/srv/a b=c,d#e\n";

	(void)state;
	expect_error("fs.read=/srv/a\033]0;OWNED\007\n", "plain text");
	expect_error("fs.read=/srv/a\033]0;OWNED\007\n", "\\x1b]0;OWNED\\x07");
	expect_error("fs.read=/srv/a\x7f\n", "plain text");
	expect_error("fs.read=/srv/a\tb\n", "plain text");
	expect_error("fs.read=/srv/a\rb\n", "plain text");
	expect_error("fs.read=/srv/\xe2\x80\xae"
		     "gpj.exe\n",
		     "\\xe2\\x80\\xae");
	expect_error("fs.read=/srv/\xe2\x81\xa6x\n", "plain text"); /* U+2066 */
	expect_error("fs.read=/srv/\xc2\x85x\n", "plain text");	    /* U+0085 */
	expect_error("fs.read=/srv/caf\xe9\n", "plain text");
	expect_error("--allow \033[2J\n", "\"--allow \\x1b[2J\" looks like");
	expect_error("Net\033work\n", "\"Net\\x1bwork\"");
	assert_int_equal(parse(ok_text, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].value, "/srv/caf\xc3\xa9 \xe6\x96\x87");
	assert_string_equal(l.items[1].value, "/srv/back\\slash");
	assert_string_equal(l.items[2].value, "/srv/a b=c,d#e");
	ward_request_list_free(&l);
	/* --allow: the same rule. */
	assert_int_equal(ward_parse_allow(&l, "fs.read=/a\033[2J", "--allow", &err), -1);
	assert_non_null(strstr(err->msg, "plain text"));
	ward_error_free(&err);
}

/* A byte order mark (some editors write one), and CRLF line ends. */
static void test_manifest_bom_crlf(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(parse("\xef\xbb\xbfnetwork.none\r\nfs.read=/srv\r\n", &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].name, "network.none");
	assert_string_equal(l.items[1].value, "/srv");
	ward_request_list_free(&l);
	/* Only at the very start. */
	expect_error("network.none\n\xef\xbb\xbf"
		     "fs.read=/srv\n",
		     "app.ent:2: invalid character");
}

static void test_manifest_file_missing(void **state)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_parse_manifest_file(&l, "/nonexistent/app.ent", &err), -1);
	assert_non_null(strstr(err->msg, "/nonexistent/app.ent does not exist"));
	ward_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_basic),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_manifest_nul),
		cmocka_unit_test(test_manifest_too_big),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_manifest_file_missing),
		cmocka_unit_test(test_manifest_plain_text),
		cmocka_unit_test(test_manifest_bom_crlf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
