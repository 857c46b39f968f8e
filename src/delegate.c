/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward delegate USER [--undo]: give an ordinary user the cgroups that their
 * rootless sandboxes' limits need (lib/cgroup/delegate.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cli.h"
#include "rootless.h"
#include "util.h"

static void delegate_usage(FILE *f)
{
	fprintf(f, "usage: ward delegate [--undo] [--cgroup-root DIR] USER\n"
		   "\n"
		   "As root: make ward's per-user cgroup subtree, "
		   "ROOT[/CONTROLLER]/ward-users/user-UID,\n"
		   "in the pids, memory and cpu hierarchies (cgroup v1 and hybrid) or in the\n"
		   "unified hierarchy (v2), and give it to USER, so that USER's rootless\n"
		   "sandboxes can have process.limit, memory.limit and cpu.limit.  Running it\n"
		   "again changes nothing.  Limits an administrator writes there bound all of\n"
		   "USER's sandboxes together.  On cgroup v2 the kernel lets a user move\n"
		   "processes only within a subtree they own: USER's session must run inside\n"
		   "it (docs/rootless.md).\n"
		   "\n"
		   "  --undo              remove the subtree (refused while sandboxes run in it)\n"
		   "  --cgroup-root DIR   cgroup hierarchy root (default /sys/fs/cgroup)\n"
		   "  -h, --help          this text\n");
}

int cmd_delegate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"undo", no_argument, NULL, 'u'},
		{"cgroup-root", required_argument, NULL, 'G'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *root = NULL;
	cleanup_free char *done = NULL;
	ward_error_t err = NULL;
	bool undo = false;
	uid_t uid;
	gid_t gid;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			undo = true;
			break;
		case 'G':
			root = optarg;
			break;
		case 'h':
			delegate_usage(stdout);
			return 0;
		case ':':
			return usage_error("delegate", "option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("delegate", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error("delegate", "give exactly one USER (a name or a uid)");
	if (geteuid() != 0) {
		fprintf(stderr,
			"ward: delegate: only root can delegate cgroups (run: sudo ward "
			"delegate %s)\n",
			argv[optind]);
		return 1;
	}
	if (ward_user_lookup(argv[optind], &uid, &gid, &err) < 0) {
		ward_error_print(&err);
		return 1;
	}
	if (uid == 0)
		return usage_error("delegate", "root needs no delegation: give an ordinary user");
	if (ward_cgroup_delegate(root, uid, gid, undo, &done, &err) < 0) {
		ward_error_print(&err);
		return 1;
	}
	printf("%s %s for uid %u\n", undo ? "removed" : "delegated", done, (unsigned)uid);
	return 0;
}
