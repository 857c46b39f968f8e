/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: a .ward file as ward reads it before trusting anything: tar
 * structure, member names, sizes, manifest and signatures, the digest; and,
 * when it opens, as ward extracts it: into a scratch state directory, with
 * the check that nothing was written outside it and that closing the
 * bundle removes everything it wrote. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* base/a/b/state: an entry that climbs out of the state directory by up to
 * three levels still lands inside base, where the walk below finds it. */
static char base[64], state[96];
static size_t state_len;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void cleanup(void)
{
	if (base[0])
		nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[96];

	snprintf(base, sizeof(base), "%s/fuzz-tar-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		abort();
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "%s/a", base);
	if (mkdir(dir, 0700) < 0)
		abort();
	snprintf(dir, sizeof(dir), "%s/a/b", base);
	if (mkdir(dir, 0700) < 0)
		abort();
	snprintf(state, sizeof(state), "%s/a/b/state", base);
	state_len = strlen(state);
}

static int outside(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	size_t n = strlen(path);

	(void)st;
	(void)flag;
	(void)f;
	/* base itself, its two levels, the state directory and what is in it. */
	if (strcmp(path, base) == 0 || (strncmp(path, state, state_len) == 0 &&
					(path[state_len] == '\0' || path[state_len] == '/')))
		return 0;
	if (n == strlen(base) + 2 && strcmp(path + n - 2, "/a") == 0)
		return 0;
	if (n == strlen(base) + 4 && strcmp(path + n - 4, "/a/b") == 0)
		return 0;
	fprintf(stderr, "fuzz_tar: extraction wrote outside its directory: %s\n", path);
	abort();
}

static void check_contained(void)
{
	nftw(base, outside, 16, FTW_PHYS);
}

static void check_bundles_empty(void)
{
	char dir[128];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/bundles", state);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		fprintf(stderr, "fuzz_tar: closing the bundle left %s/%s\n", dir, de->d_name);
		abort();
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct ward_bundle b;
	ward_error_t err = NULL;
	char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz.ward", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		setup();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ward_bundle_open(path, &b, &err) == 0) {
		struct ward_signer *s = NULL;
		size_t n = 0;

		if (ward_bundle_signers(&b, NULL, NULL, 0, 0, &s, &n, &err) == 0)
			ward_signers_free(s, n);
		ward_error_free(&err);
		if (ward_bundle_extract(&b, state, &err) == 0) {
			/* The tree to run (b.rootfs may be a /proc/self/fd link to
			 * the pinned directory) is beneath the state directory. */
			char real[PATH_MAX];

			if (b.rootfs == NULL || realpath(b.rootfs, real) == NULL ||
			    strncmp(real, state, state_len) != 0 || real[state_len] != '/') {
				fprintf(stderr, "fuzz_tar: extracted to %s\n", b.rootfs);
				abort();
			}
		}
		check_contained();
	}
	ward_error_free(&err);
	ward_bundle_close(&b);
	check_bundles_empty();
	check_contained();
	return 0;
}
