/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: a .ward file as ward reads it before trusting anything: tar
 * structure, member names, sizes, manifest and signatures, the digest. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ward_bundle_open(path, &b, &err) == 0) {
		struct ward_signer *s = NULL;
		size_t n = 0;

		if (ward_bundle_signers(&b, NULL, NULL, 0, 0, &s, &n, &err) == 0)
			ward_signers_free(s, n);
	}
	ward_error_free(&err);
	ward_bundle_close(&b);
	return 0;
}
