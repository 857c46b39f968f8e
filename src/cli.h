/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The thin ward CLI: one file per subcommand over libward. */
#ifndef WARD_CLI_H
#define WARD_CLI_H

#include <stdbool.h>

#include "entitlements.h"
#include "error.h"
#include "policy.h"

/* runc-style global options, given before the command. */
struct ward_globals {
	const char *root;	/* --root DIR: OCI state (default /run/ward/oci) */
	const char *log;	/* --log FILE */
	const char *log_format; /* --log-format text|json */
	const char *rootless;	/* --rootless true|false|auto */
	bool debug;		/* --debug */
	bool systemd_cgroup;	/* --systemd-cgroup */
	bool any;		/* any of them was given */
};
extern struct ward_globals ward_globals;

int cmd_run(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_entitlements(int argc, char **argv);
int cmd_delegate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* --allow / --manifest handling shared by run and explain. */
struct policy_args {
	struct ward_request_list reqs;
};

/* Handle one --allow or --manifest option; returns -1 with err set. */
int policy_args_allow(struct policy_args *a, const char *text, ward_error_t *err);
int policy_args_manifest(struct policy_args *a, const char *path, ward_error_t *err);
/* Resolve into a policy with the host's facts (RAM, HOME). */
int policy_args_resolve(struct policy_args *a, struct ward_policy *p, ward_error_t *err);
void policy_args_free(struct policy_args *a);

/* Print "ward: msg" + a usage hint and return 2 (bad command line). */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ward ps's options, for the broker's and the spaces' listing (src/space.c):
 * -1 to go on, else the exit status (--help, an error, or `ward ps
 * CONTAINER` handed to the OCI runtime). */
int ps_options(int argc, char **argv, const char *help, const char **state_dir, bool *json);

#endif
