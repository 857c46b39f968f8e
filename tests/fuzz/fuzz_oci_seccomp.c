/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: an OCI seccomp profile (the linux.seccomp object of a
 * config.json, or a Docker/Kubernetes profile file) compiled into a BPF
 * program by ward_oci_seccomp_compile. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "oci/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	struct oci_seccomp s;
	ward_error_t err = NULL;

	if (j == NULL)
		return 0;
	/* The caller frees the result whether compiling worked or not, as
	 * lib/oci/runtime.c does. */
	(void)ward_oci_seccomp_compile(j, "fuzz:seccomp", &s, &err);
	ward_oci_seccomp_free(&s);
	ward_error_free(&err);
	json_decref(j);
	return 0;
}
