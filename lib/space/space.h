/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Space files: several named environments of one space, their commands,
 * entitlements, published ports and who may talk to whom (docs/spaces.md).
 *
 * Pure: parsing and checking a space file needs no root and touches nothing
 * but the text (ward_space_load reads the file).  `ward up` (src/space.c)
 * turns a parsed space into one `ward run` per environment, in start order.
 *
 * Format: a subset of TOML.
 *
 *   name = "shop"                      # optional; default: file name sans .toml
 *
 *   [env.db]
 *   command = "python3 -m http.server 5432"       # or ["python3", "-m", ...]
 *   allow = ["network.listen=5432", "process.limit=64"]
 *   wait = "listen"                    # ward up waits until its listen ports accept
 *
 *   [env.web]
 *   command = ["./srv"]
 *   rootfs = "rootfs/"                 # or bundle = "web.ward", manifest = "web.ent"
 *   allow = ["network.listen=80"]
 *   talk-to = ["db:5432"]              # = network.connect=db:5432; "db" = every port db listens on
 *   publish = ["8080:80"]              # host port 8080 -> port 80 of web (TCP)
 *   env = ["MODE=prod"]
 *   chdir = "/srv"
 *
 * Every error names the file and line ("space.toml:7: ...") and the fix.
 */
#ifndef WARD_SPACE_H
#define WARD_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../error.h"

#define WARD_SPACE_MAX_NAME 31 /* space and environment names: [a-z][a-z0-9-]* */

struct ward_space_item {
	char *text;    /* as written, e.g. "network.listen=5432" or "8080:80" */
	unsigned line; /* where it was written */
};

struct ward_space_env {
	char *name;    /* from [env.NAME] */
	unsigned line; /* of the [env.NAME] header */

	char **argv; /* command, split into words; NULL-terminated; never empty
		      * unless bundle is set (a bundle carries its command) */
	size_t argc;

	/* Entitlements: allow = [...] followed by the network.connect=PEER:PORT
	 * items that talk-to expands to (with the talk-to line). */
	struct ward_space_item *allow;
	size_t n_allow;
	struct ward_space_item *publish; /* "HOSTPORT:PORT" */
	size_t n_publish;
	char **env; /* KEY=VALUE */
	size_t n_env;

	char *rootfs;	/* absolute (relative paths are taken from the file's directory) */
	char *bundle;	/* absolute; a .ward file or a bundle directory */
	char *manifest; /* absolute; ward_space_load reads it: its entitlements are
			 * then in allow (manifest_read), and ward up passes no
			 * --manifest */
	char *chdir;	/* inside the environment, absolute */

	bool manifest_read;    /* manifest folded into allow */
	bool broker;	       /* a broker entitlement in allow: ward up registers it with the
				* broker under its name (ward run --name NAME), so that the
				* others' ipc.send=NAME, service.connect=NAME reach it */
	bool wait_listen;      /* wait = "listen" */
	unsigned wait_timeout; /* seconds; wait-timeout = N, default 30 */

	/* Derived. */
	uint16_t *listen; /* ports of its network.listen= items, sorted, unique */
	size_t n_listen;
	size_t *deps; /* indexes of the environments it connects to (sorted, unique) */
	size_t n_deps;
};

struct ward_space {
	char *name;		     /* name = "..." or the file's base name without ".toml" */
	char *path;		     /* the file, as given */
	char *dir;		     /* absolute directory of the file */
	struct ward_space_env *envs; /* in file order */
	size_t n_envs;
	size_t *order; /* n_envs indexes: start order, every environment after
			* the ones it connects to (ward down uses the reverse) */
};

/* Parse text (path names the file in messages and anchors relative paths;
 * dir is its absolute directory).  Checks: syntax, known keys, names,
 * every allow item is a valid entitlement for ward (resolved like --allow,
 * errors carry "FILE:LINE"), publish items, talk-to and network.connect
 * peers that name an environment of the space and a port it listens on,
 * no dependency cycles.  On error *s is left empty (nothing to free). */
int ward_space_parse(struct ward_space *s, const char *path, const char *dir, const char *text,
		     size_t len, ward_error_t *err);
/* Read and parse a file; also what it names, for ward up (root) running a
 * space file that may be someone else's: manifest, rootfs and bundle must
 * belong to the owner of the space file (anything, if root owns it) and be
 * reached without symbolic links; a manifest is read here, once, and its
 * entitlements join allow.  ward_space_parse reads nothing but the text. */
int ward_space_load(struct ward_space *s, const char *path, ward_error_t *err);
/* The same with refs, or without (refs false: only the file's own text, as
 * ward down needs to find the space's name). */
int ward_space_read(struct ward_space *s, const char *path, bool refs, ward_error_t *err);
void ward_space_free(struct ward_space *s);

/* Index of the environment called name, or -1. */
int ward_space_find(const struct ward_space *s, const char *name);

#endif
