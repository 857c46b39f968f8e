/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which grant allows a broker request.  Pure: the daemon calls it for every
 * request, the unit tests call it directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../entitlements.h"
#include "../rootless.h"
#include "../util.h"
#include "broker.h"

char *ward_broker_dir(const char *dir)
{
	const char *env = getenv("WARD_STATE_DIR");
	char *own;

	if (dir && *dir)
		return ward_xstrdup(dir);
	if (env && *env)
		return ward_xstrdup(env);
	/* Rootless: one broker per user, in the user's own state directory
	 * (lib/rootless.c: $XDG_RUNTIME_DIR/ward, else under their home;
	 * never a shared path another user could make first). */
	own = ward_default_state_dir_path();
	return own ? own : ward_xstrdup("/run/ward");
}

/* pattern[0..plen) against name[0..nlen): exact, or a prefix before a
 * trailing '*'. */
static bool part_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
	if (plen && pattern[plen - 1] == '*')
		return nlen >= plen - 1 && memcmp(pattern, name, plen - 1) == 0;
	return plen == nlen && memcmp(pattern, name, plen) == 0;
}

bool ward_broker_name_match(const char *pattern, const char *name)
{
	const char *pat = strchr(pattern, '@'), *nat = strchr(name, '@');

	/* A local pattern never matches a remote name, however wide
	 * ("ipc.send=*" stays on this host); a remote pattern matches the
	 * name and the host each on its own ("*@b", "inventory@*"). */
	if ((pat == NULL) != (nat == NULL))
		return false;
	if (pat == NULL)
		return part_match(pattern, strlen(pattern), name, strlen(name));
	return part_match(pattern, (size_t)(pat - pattern), name, (size_t)(nat - name)) &&
	       part_match(pat + 1, strlen(pat + 1), nat + 1, strlen(nat + 1));
}

const struct ward_broker_grant *ward_broker_allows(const struct ward_broker_grant *g, size_t n,
						   enum ward_broker_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (g[i].kind != kind)
			continue;
		if (kind == WARD_BROKER_RECV || kind == WARD_BROKER_ATTEST ||
		    ward_broker_name_match(g[i].name, name))
			return &g[i];
	}
	return NULL;
}

/* Is path dir itself or beneath it, comparing whole components?  This only
 * chooses which grant to resolve beneath: the kernel does the containment
 * (openat2 with RESOLVE_BENEATH, open.c). */
static const char *beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

const struct ward_broker_grant *ward_broker_open_grant(const struct ward_broker_grant *g, size_t n,
						       const char *path, bool write,
						       const char **rel, bool *readonly_match)
{
	const struct ward_broker_grant *best = NULL;
	size_t i, best_len = 0;

	*readonly_match = false;
	for (i = 0; i < n; i++) {
		const char *r;
		size_t len;

		if (g[i].kind != WARD_BROKER_OPEN)
			continue;
		r = beneath(path, g[i].name);
		if (r == NULL)
			continue;
		if (write && !g[i].write) {
			*readonly_match = true;
			continue;
		}
		len = strlen(g[i].name);
		if (best == NULL || len > best_len) {
			best = &g[i];
			best_len = len;
			*rel = r;
		}
	}
	return best;
}

static const char *const kind_names[] = {
	[WARD_BROKER_SEND] = "ipc.send",	   [WARD_BROKER_RECV] = "ipc.recv",
	[WARD_BROKER_CONNECT] = "service.connect", [WARD_BROKER_PROVIDE] = "service.provide",
	[WARD_BROKER_OPEN] = "api.open",	   [WARD_BROKER_ATTEST] = "api.attest",
};

char *ward_broker_grant_text(const struct ward_broker_grant *g)
{
	if (g->kind == WARD_BROKER_RECV || g->kind == WARD_BROKER_ATTEST)
		return ward_xstrdup(kind_names[g->kind]);
	if (g->kind == WARD_BROKER_OPEN)
		return ward_xasprintf("api.open=%s:%s", g->name, g->write ? "rw" : "ro");
	return ward_xasprintf("%s=%s", kind_names[g->kind], g->name);
}

bool ward_policy_uses_broker(const struct ward_policy *p)
{
	return p->n_broker > 0;
}

int ward_broker_grants_parse(char *const *ents, size_t n, struct ward_policy *out,
			     ward_error_t *err)
{
	struct ward_request_list l = {0};
	struct ward_resolve_ctx ctx = {0};
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		/* Only the broker's entitlements travel to it. */
		if (strncmp(ents[i], "ipc.", 4) != 0 && strncmp(ents[i], "service.", 8) != 0 &&
		    strncmp(ents[i], "api.open", 8) != 0 && strcmp(ents[i], "api.attest") != 0) {
			ward_request_list_free(&l);
			return ward_error_set(err, EINVAL, "%s: not a broker entitlement", ents[i]);
		}
		if (ward_parse_allow(&l, ents[i], "registration", err) < 0) {
			ward_request_list_free(&l);
			return -1;
		}
	}
	ctx.physical_memory = 1ULL << 30;
	r = ward_resolve(&l, &ctx, out, err);
	ward_request_list_free(&l);
	return r;
}
