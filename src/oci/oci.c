// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The OCI runtime command line, as runc has it (engines call it that way):
 *   ward [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *        [--systemd-cgroup] COMMAND [OPTIONS] ID ...
 * Global options are parsed by main.c into ward_globals; this file parses
 * each command's options, calls lib/oci, prints the error once (and into
 * the --log file, where engines look for it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "util.h"
#include "oci/log.h"
#include "oci/oci.h"
#include "rootless.h"
#include "util.h"

int cmd_oci(int argc, char **argv);

static const char *state_root(void)
{
	static char *own;

	if (ward_globals.root)
		return ward_globals.root;
	/* Rootless (podman's rootless user namespace): the user's own state
	 * directory (lib/rootless.c), never /run/ward. */
	if (ward_rootless()) {
		if (own == NULL) {
			cleanup_free char *dir = ward_default_state_dir_path();

			if (dir)
				own = ward_xasprintf("%s/oci", dir);
		}
		if (own)
			return own;
	}
	return WARD_OCI_DEFAULT_ROOT;
}

static int fail(ward_error_t *err)
{
	int status;

	/* Errors quote config.json (paths, names, hostnames): nothing raw
	 * reaches the terminal or the engine's log. */
	if (err && *err && (*err)->msg) {
		char *clean = ward_oci_clean_msg((*err)->msg);

		free((*err)->msg);
		(*err)->msg = clean;
		ward_oci_log(WARD_LOG_ERROR, "%s", (*err)->msg);
	}
	status = ward_error_print(err);
	return status ? status : 1;
}

static int usage_of(const char *cmd, const char *text)
{
	fprintf(stderr, "usage: ward %s %s\n", cmd, text);
	return 2;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 1 << 20)
		return -1;
	*out = (int)v;
	return 0;
}

static int create_or_run(int argc, char **argv, bool run)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"pid-file", required_argument, NULL, 'p'},
		{"console-socket", required_argument, NULL, 'c'},
		{"no-pivot", no_argument, NULL, 'P'},
		{"no-new-keyring", no_argument, NULL, 'K'},
		{"preserve-fds", required_argument, NULL, 'f'},
		{"detach", no_argument, NULL, 'd'},
		{"keep", no_argument, NULL, 'k'},
		{"no-subreaper", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ward_oci_opts o;
	ward_error_t err = NULL;
	int c, status = 0;

	memset(&o, 0, sizeof(o));
	o.root = state_root();
	o.systemd_cgroup = ward_globals.systemd_cgroup;
	o.cgroup_root = getenv("WARD_OCI_CGROUP_ROOT");
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'P':
			o.no_pivot = true;
			break;
		case 'K':
			o.no_new_keyring = true;
			break;
		case 'f':
			if (parse_int(optarg, &o.preserve_fds) < 0)
				return usage_of(argv[0], "--preserve-fds N: N must be a count");
			break;
		case 'd':
			o.detach = true;
			break;
		case 'k':
		case 'S':
			break;
		case 'h':
			printf("usage: ward %s [--bundle DIR] [--pid-file FILE] [--console-socket "
			       "SOCKET] [--no-pivot] [--preserve-fds N]%s ID\n",
			       argv[0], run ? " [--detach]" : "");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_of(argv[0], "[OPTIONS] ID (exactly one container id)");
	o.id = argv[optind];
	if (!run) {
		if (ward_oci_create(&o, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (ward_oci_run(&o, &status, &err) < 0) {
		int s = err && (*err).status ? err->status : 125;

		fail(&err);
		return s;
	}
	return status;
}

static int one_id(int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ward %s ID\n", cmd);
			exit(0);
		}
		return -1;
	}
	if (optind != argc - 1) {
		usage_of(cmd, "ID");
		return -1;
	}
	return optind;
}

static int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	ward_error_t err = NULL;
	bool all = false;
	int c, sig = SIGTERM;

	optind = 1;
	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'h') {
			printf("usage: ward kill [--all] ID [SIGNAL]\n");
			return 0;
		} else
			return 2;
	}
	if (optind != argc - 1 && optind != argc - 2)
		return usage_of("kill", "[--all] ID [SIGNAL]");
	if (optind == argc - 2) {
		sig = ward_oci_signal_from_name(argv[optind + 1]);
		if (sig < 0) {
			fprintf(stderr, "ward: kill: unknown signal \"%s\"\n", argv[optind + 1]);
			return 2;
		}
	}
	if (ward_oci_kill(state_root(), argv[optind], sig, all, &err) < 0)
		return fail(&err);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	ward_error_t err = NULL;
	bool force = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h') {
			printf("usage: ward delete [--force] ID\n");
			return 0;
		} else
			return 2;
	}
	if (optind != argc - 1)
		return usage_of("delete", "[--force] ID");
	if (ward_oci_delete(state_root(), argv[optind], force, &err) < 0)
		return fail(&err);
	return 0;
}

static int cmd_list_or_ps(int argc, char **argv, bool ps)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	ward_error_t err = NULL;
	bool json = false, quiet = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") != 0)
				return usage_of(argv[0], "--format table|json");
		} else if (c == 'q') {
			quiet = true;
		} else if (c == 'h') {
			printf("usage: ward %s\n", ps ? "ps [--format table|json] ID"
						      : "list [--format table|json] [--quiet]");
			return 0;
		} else {
			return 2;
		}
	}
	if (ps) {
		if (optind >= argc)
			return usage_of("ps", "[--format table|json] ID");
		if (ward_oci_ps(state_root(), argv[optind], json, stdout, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (ward_oci_list(state_root(), json, quiet, stdout, &err) < 0)
		return fail(&err);
	return 0;
}

/* runc's update: --resources FILE ("-": stdin), as containerd's shim calls
 * it, or single values (which win over the file's). */
static int cmd_update(int argc, char **argv)
{
	static const struct {
		const char *opt, *obj, *key;
		bool text;
	} one[] = {
		{"memory", "memory", "limit", false},
		{"memory-reservation", "memory", "reservation", false},
		{"memory-swap", "memory", "swap", false},
		{"kernel-memory", "memory", "kernel", false},
		{"kernel-memory-tcp", "memory", "kernelTCP", false},
		{"cpu-share", "cpu", "shares", false},
		{"cpu-quota", "cpu", "quota", false},
		{"cpu-period", "cpu", "period", false},
		{"cpu-rt-period", "cpu", "realtimePeriod", false},
		{"cpu-rt-runtime", "cpu", "realtimeRuntime", false},
		{"cpuset-cpus", "cpu", "cpus", true},
		{"cpuset-mems", "cpu", "mems", true},
		{"pids-limit", "pids", "limit", false},
		{"blkio-weight", "blockIO", "weight", false},
	};
	struct option opts[ARRAY_SIZE(one) + 3];
	const char *file = NULL;
	json_t *res = NULL, *sets = json_object();
	ward_error_t err = NULL;
	size_t k;
	int c, idx = 0, rc;

	for (k = 0; k < ARRAY_SIZE(one); k++)
		opts[k] = (struct option){one[k].opt, required_argument, NULL, 1000 + (int)k};
	opts[k++] = (struct option){"resources", required_argument, NULL, 'r'};
	opts[k++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[k] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:", opts, &idx)) != -1) {
		if (c == 'r') {
			file = optarg;
		} else if (c >= 1000 && c < 1000 + (int)ARRAY_SIZE(one)) {
			const typeof(one[0]) *o = &one[c - 1000];
			json_t *obj = json_object_get(sets, o->obj);
			char *end;
			long long v = strtoll(optarg, &end, 10);

			if (!o->text && (*optarg == '\0' || *end != '\0')) {
				fprintf(stderr, "ward: update --%s %s: expected a number\n", o->opt,
					optarg);
				json_decref(sets);
				return 2;
			}
			if (obj == NULL) {
				obj = json_object();
				json_object_set_new(sets, o->obj, obj);
			}
			json_object_set_new(obj, o->key,
					    o->text ? json_string(optarg) : json_integer(v));
		} else if (c == 'h') {
			printf("usage: ward update [--resources FILE|-] [--memory N] "
			       "[--memory-reservation N]\n"
			       "         [--memory-swap N] [--kernel-memory-tcp N] [--cpu-share N] "
			       "[--cpu-quota N]\n"
			       "         [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] "
			       "[--pids-limit N]\n"
			       "         [--blkio-weight N] ID\n"
			       "New linux.resources for a running container (FILE: a "
			       "runtime-spec resources\n"
			       "object; \"-\": stdin).  Under org.ward.entitlements the "
			       "entitlements still bound them.\n");
			json_decref(sets);
			return 0;
		} else {
			json_decref(sets);
			return 2;
		}
	}
	if (optind != argc - 1) {
		json_decref(sets);
		return usage_of("update", "[--resources FILE|-] [OPTIONS] ID");
	}
	if (file) {
		json_error_t je;

		res = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &je)
					     : json_load_file(file, 0, &je);
		if (!json_is_object(res)) {
			ward_error_set(&err, EINVAL,
				       "update --resources %s: %s (expected a runtime-spec "
				       "linux.resources object)",
				       strcmp(file, "-") == 0 ? "(stdin)" : file,
				       res ? "not an object" : je.text);
			json_decref(res);
			json_decref(sets);
			return fail(&err);
		}
	} else {
		res = json_object();
	}
	{
		const char *key;
		json_t *v;

		json_object_foreach(sets, key, v)
		{
			json_t *have = json_object_get(res, key);

			if (json_is_object(have))
				json_object_update(have, v);
			else
				json_object_set(res, key, v);
		}
	}
	json_decref(sets);
	rc = ward_oci_update(state_root(), argv[optind], res,
			     file && strcmp(file, "-") ? file : "update --resources", &err);
	json_decref(res);
	if (rc < 0)
		return fail(&err);
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
					     {"interval", required_argument, NULL, 'i'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	ward_error_t err = NULL;
	bool stats = false;
	unsigned ms = 5000;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's') {
			stats = true;
		} else if (c == 'i') {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || v <= 0 || v > 86400 ||
			    (*end && strcmp(end, "s") != 0 && strcmp(end, "ms") != 0))
				return usage_of("events", "--interval N[s|ms]");
			ms = (unsigned)(strcmp(end, "ms") == 0 ? v : v * 1000);
			if (ms == 0)
				ms = 1;
		} else if (c == 'h') {
			printf("usage: ward events [--stats] [--interval 5s] ID\n"
			       "The container's cgroup statistics as runc prints them "
			       "({\"type\":\"stats\",\"id\",\"data\"}):\n"
			       "one line with --stats, else one per interval until it stops.\n");
			return 0;
		} else {
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_of("events", "[--stats] [--interval 5s] ID");
	if (ward_oci_events(state_root(), argv[optind], stats, ms, stdout, &err) < 0)
		return fail(&err);
	return 0;
}

static int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
					     {"rootless", no_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	ward_error_t err = NULL;
	const char *bundle = NULL;
	bool rootless = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else if (c == 'h') {
			printf("usage: ward spec [--bundle DIR] [--rootless]\n");
			return 0;
		} else
			return 2;
	}
	if (ward_oci_spec(bundle, rootless, &err) < 0)
		return fail(&err);
	return 0;
}

#define MAX_LIST 256

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"process", required_argument, NULL, 'p'},
		{"tty", no_argument, NULL, 't'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'P'},
		{"console-socket", required_argument, NULL, 'C'},
		{"cwd", required_argument, NULL, 'w'},
		{"env", required_argument, NULL, 'e'},
		{"user", required_argument, NULL, 'u'},
		{"cap", required_argument, NULL, 'c'},
		{"no-new-privs", no_argument, NULL, 'n'},
		{"preserve-fds", required_argument, NULL, 'f'},
		{"additional-gids", required_argument, NULL, 'g'},
		{"process-label", required_argument, NULL, 'l'},
		{"apparmor", required_argument, NULL, 'a'},
		{"ignore-paused", no_argument, NULL, 'i'},
		{"cgroup", required_argument, NULL, 'G'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ward_oci_exec_opts o;
	char *env[MAX_LIST], *caps[MAX_LIST];
	ward_error_t err = NULL;
	int c, status = 0;

	memset(&o, 0, sizeof(o));
	o.root = state_root();
	o.env = env;
	o.caps = caps;
	o.cgroup_root = getenv("WARD_OCI_CGROUP_ROOT");
	optind = 1;
	/* '+': options stop at the id; what follows is the command. */
	while ((c = getopt_long(argc, argv, "+p:tde:u:c:g:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process_file = optarg;
			break;
		case 't':
			o.tty = o.tty_set = true;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'C':
			o.console_socket = optarg;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'e':
			if (o.n_env < MAX_LIST)
				env[o.n_env++] = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'c':
			if (o.n_caps < MAX_LIST)
				caps[o.n_caps++] = optarg;
			break;
		case 'n':
			o.no_new_privs = true;
			break;
		case 'f':
			if (parse_int(optarg, &o.preserve_fds) < 0)
				return usage_of("exec", "--preserve-fds N");
			break;
		case 'g':
		case 'l':
		case 'a':
		case 'i':
		case 'G':
			break;
		case 'h':
			printf("usage: ward exec [--process FILE | ID COMMAND [ARGS...]] [--tty] "
			       "[--detach] [--pid-file F] [--console-socket S] [--cwd DIR] [--env "
			       "K=V] [--user UID[:GID]] [--cap CAP]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return usage_of("exec", "[OPTIONS] ID [COMMAND [ARGS...]]");
	o.id = argv[optind];
	o.args = argv + optind + 1;
	if (o.process_file == NULL && o.args[0] == NULL)
		return usage_of("exec", "[OPTIONS] ID COMMAND [ARGS...] (or --process FILE)");
	if (ward_oci_exec(&o, &status, &err) < 0) {
		int s = err && err->status ? err->status : 125;

		fail(&err);
		return s;
	}
	return status;
}

int cmd_oci(int argc, char **argv)
{
	const char *cmd = argv[0];
	ward_error_t err = NULL;
	int i;

	/* Before anything is opened: the commands that put a process into a
	 * container run from a sealed copy of ward (CVE-2019-5736). */
	if ((strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) &&
	    ward_oci_protect_self(&err) < 0)
		return fail(&err);
	if (ward_oci_log_open(ward_globals.log,
			      ward_globals.log_format &&
				      strcmp(ward_globals.log_format, "json") == 0,
			      ward_globals.debug) < 0)
		fprintf(stderr, "ward: warning: cannot open the log file %s\n", ward_globals.log);
	if (ward_globals.systemd_cgroup)
		ward_oci_log(WARD_LOG_DEBUG,
			     "--systemd-cgroup: this host has no systemd; cgroupsPath is used as a "
			     "cgroupfs path when it is one");
	if (strcmp(cmd, "create") == 0)
		return create_or_run(argc, argv, false);
	if (strcmp(cmd, "run") == 0)
		return create_or_run(argc, argv, true);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(argc, argv);
	if (strcmp(cmd, "kill") == 0)
		return cmd_kill(argc, argv);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list_or_ps(argc, argv, false);
	if (strcmp(cmd, "ps") == 0)
		return cmd_list_or_ps(argc, argv, true);
	if (strcmp(cmd, "spec") == 0)
		return cmd_spec(argc, argv);
	if (strcmp(cmd, "features") == 0) {
		if (ward_oci_features(stdout, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (strcmp(cmd, "update") == 0)
		return cmd_update(argc, argv);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(argc, argv);
	if (strcmp(cmd, "checkpoint") == 0) {
		ward_error_set(&err, 0, "%s is not supported by ward", cmd);
		return fail(&err);
	}
	i = one_id(argc, argv, cmd);
	if (i < 0)
		return 2;
	if (strcmp(cmd, "start") == 0) {
		if (ward_oci_start(state_root(), argv[i], &err) < 0)
			return fail(&err);
		return 0;
	}
	if (strcmp(cmd, "state") == 0) {
		if (ward_oci_state(state_root(), argv[i], stdout, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		if (ward_oci_pause(state_root(), argv[i], strcmp(cmd, "pause") == 0, &err) < 0)
			return fail(&err);
		return 0;
	}
	fprintf(stderr, "ward: unknown OCI command \"%s\"\n", cmd);
	return 2;
}
