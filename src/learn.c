/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward learn: run observed, write the smallest manifest that lets it run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "launch.h"
#include "seccomp/learn.h"
#include "util.h"

static void learn_usage(FILE *f)
{
	fprintf(f,
		"usage: ward learn [-o FILE] [--allow NAME[=VALUE]]... [--] PROGRAM [ARGS...]\n"
		"\n"
		"Run PROGRAM observed instead of confined: denied syscalls are recorded and let\n"
		"through, the host's directories are visible through overlays whose writes are\n"
		"discarded, and files, sockets, processes and memory are recorded.  Then write\n"
		"the smallest manifest that lets PROGRAM run under `ward run --manifest FILE`.\n"
		"\n"
		"  -o, --output FILE         write the manifest to FILE (default: stdout)\n"
		"  -a, --allow NAME[=VALUE]  entitlements for the observed run itself (e.g.\n"
		"                            network.host to let it reach the network while "
		"learning)\n"
		"  -C, --chdir DIR           start in DIR\n"
		"  -e, --setenv NAME=VALUE   add to the environment\n"
		"  -q, --quiet               no warnings\n"
		"\n"
		"The learning run is NOT a sandbox: run only programs you would run anyway.\n");
}

static int host_kind(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -1;
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

int cmd_learn(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"allow", required_argument, NULL, 'a'},
		{"chdir", required_argument, NULL, 'C'},
		{"setenv", required_argument, NULL, 'e'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct policy_args pa = {0};
	struct ward_run_options o = {0};
	struct ward_policy p = {0};
	struct ward_learn_context ctx = {0};
	ward_error_t err = NULL;
	cleanup_free char **env = NULL;
	cleanup_free char *cmdline = NULL;
	cleanup_free char *tmp = NULL;
	struct ward_learn *rec = NULL;
	const char *output = NULL;
	bool has_network = false;
	size_t n_env = 0, i;
	int c, status = 125, n;
	FILE *out = stdout;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:a:C:e:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'a':
			if (policy_args_allow(&pa, optarg, &err) < 0)
				goto fail;
			has_network |= strncmp(optarg, "network.", 8) == 0;
			break;
		case 'C':
			o.cwd = optarg;
			break;
		case 'e':
			env = ward_xrealloc(env, (n_env + 1) * sizeof(*env));
			env[n_env++] = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			learn_usage(stdout);
			status = 0;
			goto out;
		case ':':
			status = usage_error("learn", "option %s needs a value", argv[optind - 1]);
			goto out;
		default:
			status = usage_error("learn", "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		status = usage_error("learn", "no program given (write: ward learn -o app.ent -- "
					      "PROGRAM [ARGS...])");
		goto out;
	}
	/* A private loopback unless told otherwise: servers and clients on
	 * 127.0.0.1 work while learning; other addresses fail but are recorded. */
	if (!has_network && policy_args_allow(&pa, "network.loopback", &err) < 0)
		goto fail;
	if (policy_args_resolve(&pa, &p, &err) < 0)
		goto fail;
	/* What keeps the observed program off the host is its user namespace:
	 * it is uid 0 there only, on a host range of its own, and the
	 * capabilities below are its namespace's.  host.time is the one
	 * entitlement that has none (it needs CAP_SYS_TIME of the host), and
	 * a program running with it would hold those capabilities over the
	 * host's own files. */
	if (!(p.namespaces & CLONE_NEWUSER)) {
		ward_error_set(&err, EINVAL,
			       "ward learn cannot observe a program with host.time: it would run "
			       "without the user namespace that keeps what it does off the host; "
			       "learn without -a host.time (a clock change is recorded as "
			       "host.time all the same)");
		goto fail;
	}
	/* Writes go to throw-away overlays; let them succeed whoever owns the
	 * file, so the run goes as far as it would on the host.  These are
	 * capabilities of the program's user namespace: they apply to the
	 * host's files only as the idmapped overlays show them (mount.c).
	 * Never CAP_FSETID (lib/caps.h WARD_CAPS_NEVER). */
	p.caps |= (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_CHOWN);
	if (output) {
		tmp = ward_xasprintf("%s.ward-learn.XXXXXX", output);
		{
			int fd = mkstemp(tmp);

			if (fd < 0) {
				ward_error_sys(&err, "cannot write %s", output);
				goto fail;
			}
			out = fdopen(fd, "w");
			if (out == NULL) {
				close(fd);
				ward_error_sys(&err, "cannot write %s", output);
				goto fail;
			}
		}
	}

	rec = ward_learn_new();
	o.argv = argv + optind;
	o.env = env;
	o.n_env = n_env;
	o.home = getenv("HOME");
	o.term = getenv("TERM");
	o.learn = rec;
	if (ward_run(&p, &o, &status, &err) < 0)
		goto fail;

	for (i = (size_t)optind; i < (size_t)argc; i++) {
		char *next = ward_xasprintf("%s%s%s", cmdline ? cmdline : "", cmdline ? " " : "",
					    argv[i]);

		free(cmdline);
		cmdline = next;
	}
	ctx.command = cmdline;
	ctx.home = o.home;
	ctx.stat_kind = host_kind;
	n = ward_learn_write_manifest(rec, &ctx, out);
	if (output) {
		if (fclose(out) != 0 || rename(tmp, output) < 0) {
			out = NULL;
			ward_error_sys(&err, "cannot write %s", output);
			goto fail;
		}
		out = NULL;
		free(tmp);
		tmp = NULL;
	}
	if (!o.quiet) {
		fprintf(stderr,
			"ward: learned %d entitlement%s from a run that exited with status "
			"%d%s%s\n",
			n, n == 1 ? "" : "s", status, output ? "; wrote " : "",
			output ? output : "");
		if (status != 0)
			fprintf(stderr,
				"ward: warning: the program failed while learning; the manifest "
				"covers only what it did before\n");
	}
	goto out;
fail:
	status = ward_error_print(&err);
	if (status < 2)
		status = 125;
out:
	if (out && out != stdout)
		fclose(out);
	if (tmp)
		unlink(tmp);
	ward_learn_free(rec);
	ward_policy_free(&p);
	policy_args_free(&pa);
	return status;
}
