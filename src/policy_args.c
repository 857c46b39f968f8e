/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

int policy_args_allow(struct policy_args *a, const char *text, ward_error_t *err)
{
	return ward_parse_allow(&a->reqs, text, "--allow", err);
}

int policy_args_manifest(struct policy_args *a, const char *path, ward_error_t *err)
{
	return ward_parse_manifest_file(&a->reqs, path, err);
}

int policy_args_resolve(struct policy_args *a, struct ward_policy *p, ward_error_t *err)
{
	struct ward_resolve_ctx ctx = {0};
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	if (pages > 0 && psize > 0)
		ctx.physical_memory = (uint64_t)pages * (uint64_t)psize;
	ctx.home = getenv("HOME");
	return ward_resolve(&a->reqs, &ctx, p, err);
}

void policy_args_free(struct policy_args *a)
{
	ward_request_list_free(&a->reqs);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("ward: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `ward %s --help`)\n", cmd);
	return 2;
}
