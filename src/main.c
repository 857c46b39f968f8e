/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ward COMMAND [OPTIONS]\n"
		"\n"
		"Run programs in least-privilege sandboxes described by entitlements.\n"
		"\n"
		"commands:\n"
		"  run [OPTIONS] -- PROGRAM [ARGS...]   run PROGRAM in a sandbox\n"
		"  explain [--allow E] [--manifest F] [--json]\n"
		"                                       what the entitlements compile to, layer by "
		"layer\n"
		"  entitlements [--json|--markdown]     the catalog of entitlements\n"
		"  version                              print the version\n"
		"\n"
		"`ward COMMAND --help` describes each command.  With no entitlement, ward runs the\n"
		"strictest useful sandbox (network.none, security.confined).\n");
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(cmd, "entitlements") == 0)
		return cmd_entitlements(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("ward %s\n", WARD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ward: unknown command \"%s\" (see `ward --help`)\n", cmd);
	return 2;
}
