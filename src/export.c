/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward export: the entitlements in the words of Docker, podman, OCI,
 * Kubernetes and systemd (lib/export/). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/export.h"
#include "util.h"

static const char export_help[] =
	"usage: ward export --format FORMAT [--allow NAME[=VALUE]]... [--manifest FILE]...\n"
	"                   [-o FILE] [--report FILE] [--image IMAGE] [--profile NAME]\n"
	"                   [-- PROGRAM [ARGS...]]\n"
	"\n"
	"Write the same entitlements for an engine where ward is not the runtime:\n"
	"  docker-seccomp  a seccomp profile for docker/podman --security-opt seccomp=FILE\n"
	"                  and Kubernetes' Localhost profiles (the rules ward installs)\n"
	"  oci             an OCI config.json: process, mounts and linux (capabilities,\n"
	"                  no_new_privs, rlimits, seccomp, masked and read-only paths,\n"
	"                  resources)\n"
	"  kubernetes      a Pod: securityContext, resources, volumes (YAML)\n"
	"  systemd         the [Service] sandboxing directives\n"
	"\n"
	"What the format cannot express, and is therefore weaker than under ward, is\n"
	"listed in the output (kubernetes, systemd: comments) and on stderr (JSON\n"
	"formats; --report FILE writes it there instead).  PROGRAM becomes the OCI\n"
	"process.args, the Pod's command or systemd's ExecStart.  docs/export.md.\n";

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"allow", required_argument, NULL, 'a'},
		{"manifest", required_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"report", required_argument, NULL, 'r'},
		{"image", required_argument, NULL, 'i'},
		{"profile", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct policy_args pa = {0};
	struct ward_policy p = {0};
	struct ward_export_options o = {0};
	ward_error_t err = NULL;
	const char *output = NULL, *report = NULL;
	cleanup_free char *source = NULL;
	int c, status = 1, format = -1;
	FILE *out = stdout, *rep = stderr;
	size_t src_len = 0;
	FILE *src = open_memstream(&source, &src_len);

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:a:m:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = ward_export_format_parse(optarg);
			if (format < 0) {
				status = usage_error("export",
						     "--format %s: expected docker-seccomp, oci, "
						     "kubernetes or systemd",
						     optarg);
				goto out;
			}
			break;
		case 'a':
			if (policy_args_allow(&pa, optarg, &err) < 0)
				goto fail;
			fprintf(src, "%s--allow %s", ftell(src) ? " " : "", optarg);
			break;
		case 'm':
			if (policy_args_manifest(&pa, optarg, &err) < 0)
				goto fail;
			fprintf(src, "%s%s", ftell(src) ? " " : "", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'r':
			report = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'p':
			o.profile = optarg;
			break;
		case 'h':
			fputs(export_help, stdout);
			status = 0;
			goto out;
		case ':':
			status = usage_error("export", "option %s needs a value", argv[optind - 1]);
			goto out;
		default:
			status = usage_error("export", "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (format < 0) {
		status = usage_error("export", "--format is required (docker-seccomp, oci, "
					       "kubernetes or systemd)");
		goto out;
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		status = usage_error("export",
				     "unexpected argument \"%s\" (a program goes after --)",
				     argv[optind]);
		goto out;
	}
	if (optind < argc)
		o.command = argv + optind;
	fflush(src);
	o.source = src_len ? source : "the default entitlements";
	if (policy_args_resolve(&pa, &p, &err) < 0)
		goto fail;
	if (output) {
		out = fopen(output, "we");
		if (out == NULL) {
			ward_error_sys(&err, "ward export: cannot write %s", output);
			goto fail;
		}
	}
	if (ward_export(&p, (enum ward_export_format)format, &o, out, &err) < 0)
		goto fail;
	if (format == WARD_EXPORT_DOCKER_SECCOMP || format == WARD_EXPORT_OCI || report) {
		const char *w[32];
		size_t i, n = ward_export_weaker(&p, (enum ward_export_format)format, w,
						 ARRAY_SIZE(w));

		if (report && (rep = fopen(report, "we")) == NULL) {
			ward_error_sys(&err, "ward export: cannot write %s", report);
			goto fail;
		}
		fprintf(rep, "%sward export --format %s: weaker than under ward:\n",
			report ? "" : "", ward_export_format_name((enum ward_export_format)format));
		for (i = 0; i < n && i < ARRAY_SIZE(w); i++)
			fprintf(rep, "- %s\n", w[i]);
		if (report)
			fclose(rep);
	}
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
out:
	if (out && out != stdout && fclose(out) != 0 && status == 0)
		status = 1;
	fclose(src);
	ward_policy_free(&p);
	policy_args_free(&pa);
	return status;
}
