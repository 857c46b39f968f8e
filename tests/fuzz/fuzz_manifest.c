/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the bundle manifest parser (and ward's entitlement parser
 * under it), and the round trip: what parses composes again, the composed
 * text parses to the same manifest, and composing that gives the same
 * bytes (the composed form is canonical). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, ward_error_t *err)
{
	fprintf(stderr, "fuzz_manifest: %s%s%s\n", what, *err ? ": " : "",
		*err && (*err)->msg ? (*err)->msg : "");
	abort();
}

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The entitlement lines of a parsed manifest, as a manifest would hold them. */
static char *entitlements_text(const struct ward_bundle_manifest *m, size_t *len)
{
	size_t cap = 1, i;
	char *buf;

	for (i = 0; i < m->reqs.n; i++)
		cap += strlen(m->reqs.items[i].name) + 2 +
		       (m->reqs.items[i].value ? strlen(m->reqs.items[i].value) : 0);
	buf = ward_xmalloc(cap);
	*len = 0;
	for (i = 0; i < m->reqs.n; i++) {
		const struct ward_request *r = &m->reqs.items[i];

		*len += (size_t)snprintf(buf + *len, cap - *len, "%s%s%s\n", r->name,
					 r->value ? "=" : "", r->value ? r->value : "");
	}
	buf[*len] = '\0';
	return buf;
}

static char *compose(const struct ward_bundle_manifest *m, size_t *len, ward_error_t *err)
{
	size_t elen;
	cleanup_free char *ents = entitlements_text(m, &elen);
	struct ward_manifest_input in = {
		.name = m->name,
		.version = m->version,
		.cwd = m->cwd,
		.argv = m->argv,
		.env = m->env,
		.n_env = m->n_env,
		.rootfs_digest = m->rootfs_digest,
		.entitlements = ents,
		.entitlements_len = elen,
	};

	return ward_manifest_compose(&in, len, err);
}

static void check_same(const struct ward_bundle_manifest *a, const struct ward_bundle_manifest *b)
{
	size_t i;

	if (!same_str(a->name, b->name) || !same_str(a->version, b->version) ||
	    !same_str(a->cwd, b->cwd))
		abort();
	if (a->argc != b->argc || a->n_env != b->n_env || a->reqs.n != b->reqs.n)
		abort();
	for (i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			abort();
	for (i = 0; i < a->n_env; i++)
		if (strcmp(a->env[i], b->env[i]) != 0)
			abort();
	if (memcmp(a->rootfs_digest, b->rootfs_digest, sizeof(a->rootfs_digest)) != 0)
		abort();
	for (i = 0; i < a->reqs.n; i++)
		if (!same_str(a->reqs.items[i].name, b->reqs.items[i].name) ||
		    !same_str(a->reqs.items[i].value, b->reqs.items[i].value))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_bundle_manifest m, again;
	ward_error_t err = NULL;
	char *text, *text2;
	size_t len, len2;

	if (ward_manifest_parse((const char *)data, size, "fuzz:manifest", &m, &err) < 0) {
		ward_error_free(&err);
		return 0;
	}
	text = compose(&m, &len, &err);
	if (text == NULL)
		die("a manifest that parses does not compose", &err);
	if (ward_manifest_parse(text, len, "fuzz:composed", &again, &err) < 0)
		die("the composed manifest does not parse", &err);
	check_same(&m, &again);
	text2 = compose(&again, &len2, &err);
	if (text2 == NULL)
		die("the composed manifest does not compose again", &err);
	if (len2 != len || memcmp(text, text2, len) != 0)
		die("composing is not a fixed point", &err);
	free(text);
	free(text2);
	ward_manifest_free(&again);
	ward_manifest_free(&m);
	ward_error_free(&err);
	return 0;
}
