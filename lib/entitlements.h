/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entitlement table: the one place that says what each entitlement
 * grants in each layer.  The resolver, the seccomp profile, `ward explain`,
 * `ward entitlements`, docs/entitlements.md and denial messages all read it.
 */
#ifndef WARD_ENTITLEMENTS_H
#define WARD_ENTITLEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

enum ward_arg_kind {
	WARD_ARG_NONE,	   /* network.none */
	WARD_ARG_PATH,	   /* fs.read=PATH */
	WARD_ARG_COUNT,	   /* process.limit=N */
	WARD_ARG_SIZE,	   /* memory.limit=SIZE */
	WARD_ARG_CPUS,	   /* cpu.limit=CPUS (decimal, e.g. 0.5) */
	WARD_ARG_HOSTPORT, /* network.connect=HOST:PORT */
	WARD_ARG_PORT,	   /* network.listen=PORT */
	WARD_ARG_NAME,	   /* ipc.send=NAME */
	WARD_ARG_PATHMODE, /* api.open=PATH[:ro|rw] */
};

#define WARD_ENT_DANGEROUS	0x1u  /* marked as such; a trust policy may refuse it */
#define WARD_ENT_UNAVAILABLE	0x2u  /* listed, refused with "not yet available" */
#define WARD_ENT_DEFAULT	0x4u  /* in force when nothing else of its group is */
#define WARD_ENT_REPEATABLE	0x8u  /* may appear several times with different values */
#define WARD_ENT_VALUE_OPTIONAL 0x10u /* "=VALUE" may be left out (host.devices.admin) */

struct ward_entitlement {
	const char *name;
	enum ward_arg_kind arg;
	unsigned flags;
	/* Mutually exclusive group ("network", "security"), or NULL. */
	const char *group;
	const char *summary;
	/* What it compiles to, in words, per layer (NULL: nothing in that layer). */
	const char *layers[WARD_LAYER_COUNT];
	/* Machine-readable grants, used by the resolver and the seccomp profile. */
	uint64_t caps;		     /* capabilities granted (bit = CAP_*) */
	const char *const *syscalls; /* syscalls added to the allow list */
	uint64_t socket_families;    /* socket(2) families allowed (bit = AF_*) */
};

extern const struct ward_entitlement ward_entitlements[];
extern const size_t ward_n_entitlements;

/* Look up by exact name; returns the index or -1. */
int ward_entitlement_lookup(const char *name);
/* Nearest valid name for a misspelling, or NULL when nothing is close. */
const char *ward_entitlement_suggest(const char *name);
/* Entitlements (indexes) whose table entry allows the named syscall; fills
 * out[] up to max and returns how many there are. */
size_t ward_entitlements_for_syscall(const char *syscall, int *out, size_t max);
const char *ward_arg_kind_hint(enum ward_arg_kind kind);

/* A parsed entitlement, before resolution. */
struct ward_request {
	char *name;
	char *value;  /* NULL when "=VALUE" was absent */
	char *origin; /* "file:line" or "--allow" */
};

struct ward_request_list {
	struct ward_request *items;
	size_t n;
};

void ward_request_list_free(struct ward_request_list *l);

/* Parse "NAME[=VALUE]" from --allow.  origin is copied. */
int ward_parse_allow(struct ward_request_list *l, const char *text, const char *origin,
		     ward_error_t *err);
/* Parse a manifest's text: one entitlement per line, '#' comments, blank
 * lines ignored.  filename is used in messages ("app.ent:3: ..."). */
int ward_parse_manifest(struct ward_request_list *l, const char *text, size_t len,
			const char *filename, ward_error_t *err);
/* Read and parse a manifest file. */
int ward_parse_manifest_file(struct ward_request_list *l, const char *path, ward_error_t *err);

/* Split a network.connect value as the resolver reads it: HOST lower-cased
 * (newly allocated when host is not NULL) and PORT.  *is_addr: HOST is an
 * IPv4 address in dotted-quad form (*addr, host byte order); otherwise it is
 * a host name.  A HOST the system resolver would read as an address in
 * another form ("10.5", "0x0a.0.0.5", "010.0.0.5") is an error naming origin. */
int ward_connect_parse(const char *value, const char *origin, char **host, bool *is_addr,
		       uint32_t *addr, uint16_t *port, ward_error_t *err);

/* Resolution context: facts about the host the pure resolver needs. */
struct ward_resolve_ctx {
	uint64_t physical_memory; /* bytes; the default memory limit is a quarter */
	const char *home;	  /* for "~" expansion; NULL: "~" is an error */
};

/* Resolve requests into a policy.  Order-independent; conflicts, unknown or
 * unavailable names, and malformed values are errors naming the origin. */
int ward_resolve(const struct ward_request_list *l, const struct ward_resolve_ctx *ctx,
		 struct ward_policy *out, ward_error_t *err);

#endif
