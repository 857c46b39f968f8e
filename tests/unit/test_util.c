/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ward_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ward_parse_size("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(ward_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(ward_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(ward_parse_size("64k", &v), 0);
	assert_int_equal(v, 64ULL << 10);
	assert_int_equal(ward_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(ward_parse_size("lots", &v), -EINVAL);
	assert_int_equal(ward_parse_size("", &v), -EINVAL);
	assert_int_equal(ward_parse_size("-1M", &v), -EINVAL);
	assert_int_equal(ward_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(ward_parse_size("12X", &v), -EINVAL);
	assert_int_equal(ward_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(ward_parse_size("17179869184G", &v), -ERANGE);
}

static void check_escape(const char *in, size_t max, const char *want)
{
	char *got = ward_escape(in, max);

	assert_string_equal(got, want);
	free(got);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("plain /usr/bin/ls", 0, "plain /usr/bin/ls");
	check_escape("a\nward: all good", 0, "a\\nward: all good");
	check_escape("\033[2J\033]0;OWNED\007", 0, "\\x1b[2J\\x1b]0;OWNED\\x07");
	check_escape("back\\slash\t\r\x7f", 0, "back\\\\slash\\t\\r\\x7f");
	check_escape("caf\xc3\xa9 \xe2\x9c\x93", 0, "caf\xc3\xa9 \xe2\x9c\x93"); /* é ✓ */
	check_escape("\xc2\x9b"
		     "31m",
		     0, "\\xc2\\x9b31m");		    /* C1 CSI */
	check_escape("\xe2\x80\xae", 0, "\\xe2\\x80\\xae"); /* RLO */
	check_escape("\xc0\xaf\xff\xed\xa0\x80", 0,
		     "\\xc0\\xaf\\xff\\xed\\xa0\\x80"); /* overlong, invalid, surrogate */
	check_escape("\xe2\x9c", 0, "\\xe2\\x9c");	/* truncated sequence */
	check_escape("abcdefgh", 3, "abc...(+5 bytes)");
	check_escape("abc", 3, "abc");
	check_escape(NULL, 0, "(null)");
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ward_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ward_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(ward_parse_u64("12a", &v), -EINVAL);
	assert_int_equal(ward_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(ward_parse_u64(NULL, &v), -EINVAL);
}

static void test_parse_milli(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ward_parse_milli("0.5", 1024, &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(ward_parse_milli("2", 1024, &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(ward_parse_milli("1.25", 1024, &v), 0);
	assert_int_equal(v, 1250);
	assert_int_equal(ward_parse_milli("1025", 1024, &v), -ERANGE);
	assert_int_equal(ward_parse_milli("0.0001", 1024, &v), -EINVAL);
	assert_int_equal(ward_parse_milli("1.", 1024, &v), -EINVAL);
	assert_int_equal(ward_parse_milli(".5", 1024, &v), -EINVAL);
	assert_int_equal(ward_parse_milli("1x", 1024, &v), -EINVAL);
}

static void check_norm(const char *in, const char *want)
{
	char *out = ward_path_normalize(in);

	if (want == NULL) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_path_normalize(void **state)
{
	(void)state;
	check_norm("/srv/data", "/srv/data");
	check_norm("//srv///data/", "/srv/data");
	check_norm("/srv/./data/.", "/srv/data");
	check_norm("/", "/");
	check_norm("/srv/../etc", NULL);
	check_norm("/srv/..", NULL);
	check_norm("srv/data", NULL);
	check_norm("", NULL);
	check_norm("/a/..b/c", "/a/..b/c");
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ward_edit_distance("netwrok.none", "network.none", 5), 2);
	assert_int_equal(ward_edit_distance("fs.read", "fs.read", 5), 0);
	assert_int_equal(ward_edit_distance("fs.rd", "fs.read", 5), 2);
	assert_true(ward_edit_distance("completely", "different", 3) > 3);
}

static void test_error_wrap(void **state)
{
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_error_set(&err, EINVAL, "inner %d", 1), -1);
	assert_int_equal(ward_error_wrap(&err, "outer"), -1);
	assert_string_equal(err->msg, "outer: inner 1");
	assert_int_equal(err->code, EINVAL);
	errno = ENOENT;
	ward_error_sys(&err, "open %s", "/x");
	assert_string_equal(err->msg, "open /x: No such file or directory");
	ward_error_free(&err);
	assert_null(err);
	/* A NULL error pointer is allowed: the failure is still reported. */
	assert_int_equal(ward_error_set(NULL, 1, "x"), -1);
}

/* The walk that replaces openat2 under an outer filter (ward inside ward):
 * never looser than openat2 with RESOLVE_NO_SYMLINKS (and BENEATH). */
static void test_openat2_walk(void **state)
{
	char dir[] = "/tmp/ward-walk-XXXXXX", path[256];
	int root, fd;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/f", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("a", path), 0);
	snprintf(path, sizeof(path), "%s/a/flink", dir);
	assert_int_equal(symlink("f", path), 0);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);

	/* A real path opens, and is what it names. */
	fd = ward_openat2_walk(root, "a/f", O_PATH | O_CLOEXEC,
			       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	fd = ward_openat2_walk(root, "a", O_PATH | O_DIRECTORY | O_CLOEXEC,
			       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(
		ward_openat2_walk(root, "a/g", O_RDWR | O_CREAT | O_CLOEXEC, RESOLVE_NO_SYMLINKS),
		-1);
	assert_int_equal(errno, ENOSYS);
	fd = ward_openat2_walk(root, "a//./f", O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
	assert_true(fd >= 0);
	close(fd);
	/* A symlink in a middle component, and as the last one: ELOOP. */
	errno = 0;
	assert_int_equal(ward_openat2_walk(root, "link/f", O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS),
			 -1);
	assert_int_equal(errno, ELOOP);
	errno = 0;
	assert_int_equal(
		ward_openat2_walk(root, "a/flink", O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS), -1);
	assert_int_equal(errno, ELOOP);
	/* "..": refused, even when it would stay beneath. */
	errno = 0;
	assert_int_equal(ward_openat2_walk(root, "a/../a/f", O_PATH | O_CLOEXEC,
					   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
			 -1);
	assert_int_equal(errno, EXDEV);
	/* An absolute path beneath a directory: EXDEV. */
	errno = 0;
	assert_int_equal(ward_openat2_walk(root, "/etc/passwd", O_PATH | O_CLOEXEC,
					   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
			 -1);
	assert_int_equal(errno, EXDEV);
	/* A magic link of /proc (the root's own descriptor): ELOOP. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), root);
	errno = 0;
	assert_int_equal(ward_openat2_walk(AT_FDCWD, path, O_PATH | O_CLOEXEC,
					   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
			 -1);
	assert_int_equal(errno, ELOOP);
	/* Without RESOLVE_NO_SYMLINKS the walk does not pretend: ENOSYS. */
	errno = 0;
	assert_int_equal(ward_openat2_walk(root, "a/f", O_PATH | O_CLOEXEC, RESOLVE_BENEATH), -1);
	assert_int_equal(errno, ENOSYS);

	/* Never looser than openat2 itself: wherever openat2 refuses a
	 * path, the walk refuses it too; where both open, the same inode.
	 * (The walk opened "" as the directory itself, and "a/f/" as the
	 * file, where openat2 says ENOENT and ENOTDIR.) */
	{
		static const char *const paths[] = {
			"",	  ".",	     "a",	"a/",	    "a/.",     "a//",
			"a/f",	  "a/f/",    "a/f/.",	"a/f//",    "a/f/x",   "link",
			"link/",  "link/f",  "a/flink", "a/flink/", "nothere", "nothere/",
			"a/../a", "./a/./f", "/",	"//a",	    "a/./",    ".//a//f",
		};
		static const uint64_t resolves[] = {RESOLVE_NO_SYMLINKS,
						    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
		static const int flagsets[] = {O_PATH, O_RDONLY, O_RDONLY | O_DIRECTORY,
					       O_PATH | O_DIRECTORY};
		size_t i, j, k;

		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			for (j = 0; j < 2; j++)
				for (k = 0; k < 4; k++) {
					struct open_how how = {.flags = (uint64_t)flagsets[k] |
									O_CLOEXEC,
							       .resolve = resolves[j]};
					int real = (int)syscall(SYS_openat2, root, paths[i], &how,
								sizeof(how));
					int walk = ward_openat2_walk(root, paths[i], how.flags,
								     how.resolve);
					struct stat a, b;

					if (real < 0 && walk >= 0)
						fail_msg("walk opened \"%s\" (flags %#x, resolve "
							 "%#llx), openat2 refused it: %s",
							 paths[i], flagsets[k],
							 (unsigned long long)resolves[j],
							 strerror(errno));
					if (real >= 0 && walk >= 0) {
						assert_int_equal(fstat(real, &a), 0);
						assert_int_equal(fstat(walk, &b), 0);
						assert_true(a.st_ino == b.st_ino &&
							    a.st_dev == b.st_dev);
					}
					if (real >= 0)
						close(real);
					if (walk >= 0)
						close(walk);
				}
	}

	close(root);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),     cmocka_unit_test(test_parse_milli),
		cmocka_unit_test(test_escape),	       cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_path_normalize), cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_error_wrap),     cmocka_unit_test(test_openat2_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
