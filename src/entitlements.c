/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward entitlements: the catalog, generated from the one table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "explain.h"

int cmd_entitlements(int argc, char **argv)
{
	ward_error_t err = NULL;

	if (argc > 2)
		return usage_error("entitlements", "too many arguments");
	if (argc == 1)
		return ward_catalog_text(stdout) < 0 ? 1 : 0;
	if (strcmp(argv[1], "--json") == 0)
		return ward_catalog_json(stdout, &err) < 0 ? ward_error_print(&err) : 0;
	if (strcmp(argv[1], "--markdown") == 0)
		return ward_catalog_markdown(stdout) < 0 ? 1 : 0;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf("usage: ward entitlements [--json | --markdown]\n\n"
		       "List every entitlement: what it grants, and whether it is a default,\n"
		       "dangerous, or not yet available.\n");
		return 0;
	}
	return usage_error("entitlements", "unknown option %s", argv[1]);
}
