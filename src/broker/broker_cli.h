/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's hook in ward run (src/broker/attach.c).  Weak, so that the
 * CLI builds while src/broker is absent. */
#ifndef WARD_BROKER_CLI_H
#define WARD_BROKER_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "policy.h"

struct broker_attach {
	int ctl;       /* control connection, kept open: denials arrive on it */
	int env_fd;    /* the environment's end of its broker connection */
	char *name;    /* as registered */
	pid_t printer; /* prints the broker's denials on stderr */
};

/* Register the environment (starting the broker on demand) and print the
 * broker's denials for it on stderr unless quiet.  state_dir may be NULL. */
int broker_cli_attach(struct broker_attach *a, const char *state_dir, const char *name,
		      const struct ward_policy *p, bool quiet, ward_error_t *err)
	__attribute__((weak));
/* After the program ended: unregister (close) and stop printing. */
void broker_cli_detach(struct broker_attach *a) __attribute__((weak));
/* Is "NAME" a valid environment name?  (for --name) */
bool broker_cli_name_ok(const char *name) __attribute__((weak));

#endif
