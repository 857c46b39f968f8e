/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward import: the nearest manifest for an existing profile (lib/export/). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export/export.h"
#include "util.h"

static const char import_help[] =
	"usage: ward import --from FORMAT [-o MANIFEST] FILE\n"
	"\n"
	"Write the nearest manifest for an existing profile, and list what it could not\n"
	"map (\"# NOT MAPPED:\" lines, also counted on stderr):\n"
	"  docker-seccomp  a Docker/podman seccomp profile (JSON)\n"
	"  oci             an OCI config.json (process, linux, mounts)\n"
	"  kubernetes      a Pod (or Deployment, Job...) or a securityContext, YAML or JSON\n"
	"FILE - reads standard input.  docs/export.md.\n";

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	ward_error_t err = NULL;
	const char *output = NULL, *file;
	cleanup_free char *text = NULL;
	size_t len = 0, unmapped = 0;
	int c, status = 1, format = -1;
	FILE *out = stdout;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = ward_import_format_parse(optarg);
			if (format < 0)
				return usage_error("import",
						   "--from %s: expected docker-seccomp, oci or "
						   "kubernetes",
						   optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(import_help, stdout);
			return 0;
		case ':':
			return usage_error("import", "option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("import", "unknown option %s", argv[optind - 1]);
		}
	}
	if (format < 0)
		return usage_error("import", "--from is required (docker-seccomp, oci or "
					     "kubernetes)");
	if (optind + 1 != argc)
		return usage_error("import", "give one FILE to import (- for standard input)");
	file = argv[optind];
	if (strcmp(file, "-") == 0) {
		FILE *m = open_memstream(&text, &len);
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
		file = "<stdin>";
	} else {
		int rc = ward_read_file(file, &text, &len);

		if (rc < 0) {
			errno = -rc;
			ward_error_sys(&err, "ward import: cannot read %s", file);
			goto fail;
		}
	}
	if (output) {
		out = fopen(output, "wxe");
		if (out == NULL) {
			ward_error_sys(&err, "ward import: cannot create %s (it must not exist)",
				       output);
			goto fail;
		}
	}
	if (ward_import((enum ward_import_format)format, text, len, file, out, &unmapped, &err) < 0)
		goto fail;
	if (unmapped)
		fprintf(stderr,
			"ward import: %zu thing%s could not be mapped (the NOT MAPPED "
			"lines%s)\n",
			unmapped, unmapped == 1 ? "" : "s", output ? " of the manifest" : "");
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
	if (output && out == stdout)
		output = NULL;
out:
	if (out != stdout && fclose(out) != 0 && status == 0)
		status = 1;
	if (status != 0 && output && out != stdout)
		unlink(output);
	return status;
}
