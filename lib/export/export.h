/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward export: the same resolved policy, in the words of engines where ward
 * is not the runtime (Docker and podman seccomp profiles, an OCI config
 * fragment, a Kubernetes Pod, systemd's [Service] sandboxing directives),
 * and ward import: the nearest manifest for such a profile.
 *
 * Every syscall rule comes from ward_seccomp_rules(), the list ward itself
 * installs: nothing here decides what an entitlement means.  Each export
 * also says what its format cannot express (ward_export_weaker()).
 */
#ifndef WARD_EXPORT_H
#define WARD_EXPORT_H

#include <stdio.h>

#include "../error.h"
#include "../policy.h"

enum ward_export_format {
	WARD_EXPORT_DOCKER_SECCOMP,
	WARD_EXPORT_OCI,
	WARD_EXPORT_KUBERNETES,
	WARD_EXPORT_SYSTEMD,
};

/* "docker-seccomp", "oci", "kubernetes", "systemd"; -1 for anything else. */
int ward_export_format_parse(const char *name);
const char *ward_export_format_name(enum ward_export_format f);

struct ward_export_options {
	const char *source;   /* the manifest or "--allow ...", for comments */
	const char *image;    /* kubernetes: the container image (default: IMAGE) */
	const char *profile;  /* kubernetes: localhostProfile (default: ward.json) */
	char *const *command; /* systemd ExecStart, OCI process.args; may be NULL */
};

/* Write the export of p in format f.  0, or -1 with err. */
int ward_export(const struct ward_policy *p, enum ward_export_format f,
		const struct ward_export_options *o, FILE *out, ward_error_t *err);

/* What format f cannot express of p and is therefore weaker than under ward,
 * one sentence each.  Returns the count (at most max filled). */
size_t ward_export_weaker(const struct ward_policy *p, enum ward_export_format f, const char **out,
			  size_t max);

/* ---- import ---- */

enum ward_import_format {
	WARD_IMPORT_DOCKER_SECCOMP,
	WARD_IMPORT_OCI,	/* config.json: process and linux */
	WARD_IMPORT_KUBERNETES, /* a Pod or a container securityContext, YAML or JSON */
};

int ward_import_format_parse(const char *name);

/* Read a profile (text of len bytes, named file in messages) and write the
 * nearest manifest to out: what it maps as entitlement lines, what it could
 * not map as "# NOT MAPPED:" comments.  *unmapped gets their count. */
int ward_import(enum ward_import_format f, const char *text, size_t len, const char *file,
		FILE *out, size_t *unmapped, ward_error_t *err);

#endif
