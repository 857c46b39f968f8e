/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `ward explain` and `ward entitlements`: generated from the entitlement table
 * and the resolved policy, so they cannot disagree with what ward does. */
#ifndef WARD_EXPLAIN_H
#define WARD_EXPLAIN_H

#include <stdio.h>

#include "error.h"
#include "policy.h"

/* One sensitive operation and the layers that stop it under a policy. */
#define WARD_EXPLAIN_MAX_LAYERS 6
struct ward_threat {
	const char *operation;
	const char *layers[WARD_EXPLAIN_MAX_LAYERS]; /* "seccomp: mount(2) denied" ... */
	size_t n_layers;
};

/* Fill out[] (at most max) with the defense-in-depth matrix; returns the count. */
size_t ward_threat_matrix(const struct ward_policy *p, int landlock_abi, struct ward_threat *out,
			  size_t max);

/* The admin entitlements (security.admin, network.admin, host.devices.admin:
 * engines inside ward, docs/engines.md): what still protects the host
 * (holds) and what is given up compared with the default sandbox. */
struct ward_engine_line {
	bool holds;
	char text[400];
};

/* Fill out[] (at most max) for a policy with an admin entitlement; 0 lines
 * for a policy without one. */
size_t ward_engine_summary(const struct ward_policy *p, int landlock_abi,
			   struct ward_engine_line *out, size_t max);

/* Explain for root mode (0), rootless mode (1), or the mode of the caller
 * (-1, the default: lib/rootless.c).  docs/rootless.md. */
void ward_explain_mode(int rootless);
int ward_explain_text(const struct ward_policy *p, int landlock_abi, FILE *out, ward_error_t *err);
int ward_explain_json(const struct ward_policy *p, int landlock_abi, FILE *out, ward_error_t *err);

int ward_catalog_text(FILE *out);
int ward_catalog_json(FILE *out, ward_error_t *err);
int ward_catalog_markdown(FILE *out);

#endif
