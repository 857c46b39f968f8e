/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "attest_cli.h"
#include "cli.h"
#include "rootless.h"

struct ward_globals ward_globals;

/* Subcommand groups that live in src/oci/ and src/bundle/.  Declared weak
 * so the CLI builds while a group is absent from the tree. */
int cmd_oci(int argc, char **argv) __attribute__((weak));
int cmd_key(int argc, char **argv) __attribute__((weak));
int cmd_bundle(int argc, char **argv) __attribute__((weak));
int cmd_trust(int argc, char **argv) __attribute__((weak));
int cmd_broker(int argc, char **argv) __attribute__((weak));
int cmd_ps(int argc, char **argv) __attribute__((weak));
int cmd_msg(int argc, char **argv) __attribute__((weak));
/* Spaces (src/space.c). */
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_space_ps(int argc, char **argv);

static const char *const oci_commands[] = {
	"create", "start",  "state", "kill", "delete", "exec",	     "spec",   "features",
	"pause",  "resume", "ps",    "list", "update", "checkpoint", "events",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ward [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
		"\n"
		"Run programs in least-privilege sandboxes described by entitlements.\n"
		"\n"
		"commands:\n"
		"  run [OPTIONS] -- PROGRAM [ARGS...]   run PROGRAM in a sandbox\n"
		"  learn [-o FILE] -- PROGRAM [ARGS...] run PROGRAM observed and write the "
		"smallest\n"
		"                                       manifest that lets it run\n"
		"  explain [--allow E] [--manifest F] [--json]\n"
		"                                       what the entitlements compile to, layer by "
		"layer\n"
		"  entitlements [--json|--markdown]     the catalog of entitlements\n"
		"  export --format F [--allow E]...     the same entitlements for docker/podman "
		"seccomp,\n"
		"                                       OCI, Kubernetes or systemd "
		"(docs/export.md)\n"
		"  import --from F FILE                 the nearest manifest for such a profile\n"
		"  up FILE, down FILE|NAME, ps, gc      start and stop a space: environments "
		"that\n"
		"                                       talk to each other (docs/spaces.md)\n"
		"  delegate [--undo] USER               (root) give USER the cgroups its rootless\n"
		"                                       sandboxes' limits need "
		"(docs/rootless.md)\n"
		"  version                              print the version\n");
	if (cmd_broker)
		fprintf(f, "  broker, ps, msg send NAME TEXT       the broker through which "
			   "environments "
			   "talk\n");
	if (cmd_key || cmd_bundle || cmd_trust)
		fprintf(f, "  key, bundle, trust                   signed bundles and the trust "
			   "policy (`ward bundle --help`)\n");
	if (cmd_attest)
		fprintf(f, "  attest init|quote|verify|log         measured launch and attestation "
			   "(docs/attestation.md)\n");
	if (cmd_oci)
		fprintf(f, "  create, start, state, kill, delete, run --bundle, exec, spec, "
			   "features,\n"
			   "  pause, resume, ps, list, update, events\n"
			   "                                       the OCI runtime command line "
			   "(as runc)\n"
			   "\n"
			   "global options (OCI runtime): --root DIR, --log FILE, --log-format "
			   "text|json,\n"
			   "  --debug, --systemd-cgroup\n");
	fprintf(f, "\n"
		   "`ward COMMAND --help` describes each command.  With no entitlement, ward runs "
		   "the\n"
		   "strictest useful sandbox (network.none, security.confined).\n");
}

/* runc's global options come before the command. */
static int parse_globals(int argc, char **argv, int *idx)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2] != '\0') {
		const char *a = argv[i] + 2;
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		const char **slot = NULL;

		if (n == 4 && strncmp(a, "root", 4) == 0)
			slot = &ward_globals.root;
		else if (n == 3 && strncmp(a, "log", 3) == 0)
			slot = &ward_globals.log;
		else if (n == 10 && strncmp(a, "log-format", 10) == 0)
			slot = &ward_globals.log_format;
		else if (n == 5 && strncmp(a, "debug", 5) == 0)
			ward_globals.debug = true;
		else if (n == 14 && strncmp(a, "systemd-cgroup", 14) == 0)
			ward_globals.systemd_cgroup = true;
		else if (n == 7 && strncmp(a, "rootless", 7) == 0)
			ward_globals.rootless = eq ? eq + 1 : "auto";
		else if (n == 8 && strncmp(a, "criu", 4) == 0)
			i++; /* runc accepts --criu PATH; ward has no checkpointing */
		else
			break;
		if (slot) {
			if (eq) {
				*slot = eq + 1;
			} else if (i + 1 < argc) {
				*slot = argv[++i];
			} else {
				fprintf(stderr, "ward: --%.*s needs a value\n", (int)n, a);
				return -1;
			}
		}
		ward_globals.any = true;
		i++;
	}
	*idx = i;
	return 0;
}

/* `run` is ward's own command, unless it is the OCI runtime's: that is the
 * case when a global runtime option was given or when --bundle/-b appears
 * before "--". */
static bool is_oci_run(int argc, char **argv)
{
	int i;

	if (ward_globals.any)
		return true;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0 ||
		    strncmp(argv[i], "--bundle=", 9) == 0)
			return true;
		if (argv[i][0] != '-')
			return false;
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int idx;
	size_t i;

	{
		ward_error_t err = NULL;

		/* Before anything else: never run with more privilege than the
		 * caller has (lib/rootless.c). */
		if (ward_refuse_setid(&err) < 0) {
			ward_error_print(&err);
			return 125;
		}
	}
	if (parse_globals(argc, argv, &idx) < 0)
		return 2;
	if (idx >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[idx];
	argc -= idx;
	argv += idx;
	if (strcmp(cmd, "run") == 0) {
		if (cmd_oci && is_oci_run(argc, argv))
			return cmd_oci(argc, argv);
		return cmd_run(argc, argv);
	}
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc, argv);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc, argv);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc, argv);
	if (strcmp(cmd, "learn") == 0)
		return cmd_learn(argc, argv);
	if (strcmp(cmd, "entitlements") == 0)
		return cmd_entitlements(argc, argv);
	if (strcmp(cmd, "key") == 0 && cmd_key)
		return cmd_key(argc, argv);
	if (strcmp(cmd, "bundle") == 0 && cmd_bundle)
		return cmd_bundle(argc, argv);
	if (strcmp(cmd, "trust") == 0 && cmd_trust)
		return cmd_trust(argc, argv);
	if (strcmp(cmd, "broker") == 0 && cmd_broker)
		return cmd_broker(argc, argv);
	if (strcmp(cmd, "attest") == 0 && cmd_attest)
		return cmd_attest(argc, argv);
	if (strcmp(cmd, "up") == 0)
		return cmd_up(argc, argv);
	if (strcmp(cmd, "down") == 0)
		return cmd_down(argc, argv);
	if (strcmp(cmd, "gc") == 0)
		return cmd_gc(argc, argv);
	if (strcmp(cmd, "delegate") == 0)
		return cmd_delegate(argc, argv);
	/* `ps CONTAINER` goes on to the OCI runtime; without the broker, ps
	 * lists the spaces only. */
	if (strcmp(cmd, "ps") == 0 && !ward_globals.any)
		return cmd_ps ? cmd_ps(argc, argv) : cmd_space_ps(argc, argv);
	if (strcmp(cmd, "msg") == 0 && cmd_msg)
		return cmd_msg(argc, argv);
	for (i = 0; i < sizeof(oci_commands) / sizeof(oci_commands[0]); i++)
		if (strcmp(cmd, oci_commands[i]) == 0 && cmd_oci)
			return cmd_oci(argc, argv);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 ||
	    strcmp(cmd, "-v") == 0) {
		printf("ward version %s\nspec: 1.0.2\n", WARD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ward: unknown command \"%s\" (see `ward --help`)\n", cmd);
	return 2;
}
