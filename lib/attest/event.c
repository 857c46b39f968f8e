/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The canonical text of a measurement event (docs/attestation.md).
 *
 * One "key value" line per fact, in a fixed order; lists whose order
 * means nothing (signers, entitlements, options) are sorted, lists whose
 * order matters (arguments, environment) are kept.  Every value is
 * escaped: bytes outside '!'..'~' and the backslash become \xHH, so a
 * value holds no space and no newline, and no bundle can write a line of
 * its own into the event (an argument "x\nentitlement network.host" is
 * one escaped argument).  The same launch gives the same bytes; two
 * launches that differ in anything ward enforces give different bytes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "attest.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = ward_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

char *ward_attest_escape(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = ward_xmalloc(len * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > ' ' && c <= '~' && c != '\\') {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* "key value\n", the value escaped. */
static void line(struct sbuf *b, const char *key, const char *value)
{
	cleanup_free char *e = ward_attest_escape(value ? value : "", value ? strlen(value) : 0);

	sb_str(b, key);
	sb_put(b, " ", 1);
	sb_str(b, e);
	sb_put(b, "\n", 1);
}

static void line_digest(struct sbuf *b, const char *key, const uint8_t d[WARD_ATTEST_DIGEST])
{
	char hex[WARD_ATTEST_HEX];
	char v[8 + WARD_ATTEST_HEX];

	ward_attest_hex(d, WARD_ATTEST_DIGEST, hex);
	snprintf(v, sizeof(v), "sha256:%s", hex);
	line(b, key, v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_grant(const void *a, const void *b)
{
	const struct ward_attest_grant *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	return c ? c : strcmp(x->by, y->by);
}

static int cmp_signer(const void *a, const void *b)
{
	const struct ward_attest_signer *x = *(const struct ward_attest_signer *const *)a;
	const struct ward_attest_signer *y = *(const struct ward_attest_signer *const *)b;

	return strcmp(x->keyid, y->keyid);
}

char *ward_attest_launch_body(struct ward_attest_launch *l, size_t *len)
{
	struct sbuf b = {0};
	size_t i;

	sb_str(&b, "ward-launch 1\n");
	line(&b, "env", l->env ? l->env : "-");
	line_digest(&b, "ward", l->ward);
	line(&b, "ward-version", WARD_VERSION);
	if (l->bundle) {
		line(&b, "bundle", l->bundle_name ? l->bundle_name : "-");
		line(&b, "bundle-version", l->bundle_version ? l->bundle_version : "-");
		line_digest(&b, "manifest", l->manifest);
		line_digest(&b, "rootfs", l->rootfs);
	} else {
		/* A manifest run: the host's system directories, or --rootfs
		 * DIR, which is not hashed (a bundle is how a tree is
		 * measured). */
		line(&b, "bundle", "-");
		line(&b, "rootfs", l->rootfs_dir ? l->rootfs_dir : "host");
	}
	{
		cleanup_free const struct ward_attest_signer **s =
			ward_xcalloc(l->n_signers + 1, sizeof(*s));

		for (i = 0; i < l->n_signers; i++)
			s[i] = &l->signers[i];
		if (l->n_signers > 1)
			qsort(s, l->n_signers, sizeof(*s), cmp_signer);
		for (i = 0; i < l->n_signers; i++) {
			cleanup_free char *name =
				ward_attest_escape(s[i]->name, strlen(s[i]->name));
			cleanup_free char *roles =
				ward_attest_escape(s[i]->roles, strlen(s[i]->roles));
			cleanup_free char *as =
				ward_attest_escape(s[i]->signed_as, strlen(s[i]->signed_as));
			cleanup_free char *v = ward_xasprintf("%s name=%s roles=%s signed-as=%s",
							      s[i]->keyid, name, roles, as);

			/* Already escaped piece by piece: the spaces are ours. */
			sb_str(&b, "signer ");
			sb_str(&b, v);
			sb_put(&b, "\n", 1);
		}
	}
	line(&b, "decision", l->decision ? l->decision : "operator");
	if (l->n_grants > 1)
		qsort(l->grants, l->n_grants, sizeof(*l->grants), cmp_grant);
	for (i = 0; i < l->n_grants; i++) {
		cleanup_free char *t =
			ward_attest_escape(l->grants[i].text, strlen(l->grants[i].text));
		cleanup_free char *by =
			ward_attest_escape(l->grants[i].by, strlen(l->grants[i].by));

		sb_str(&b, "entitlement ");
		sb_str(&b, t);
		sb_str(&b, " by=");
		sb_str(&b, by);
		sb_put(&b, "\n", 1);
	}
	if (l->n_options > 1)
		qsort(l->options, l->n_options, sizeof(*l->options), cmp_str);
	for (i = 0; i < l->n_options; i++)
		line(&b, "option", l->options[i]);
	for (i = 0; l->argv && l->argv[i]; i++)
		line(&b, "arg", l->argv[i]);
	for (i = 0; i < l->n_envp; i++)
		line(&b, "setenv", l->envp[i]);
	line(&b, "cwd", l->cwd ? l->cwd : "-");
	*len = b.len;
	return b.p;
}

char *ward_attest_header_body(const char *mode, unsigned pcr, const char *boot_id, size_t *len)
{
	struct sbuf b = {0};
	char n[16];

	sb_str(&b, "ward-log 1\n");
	line(&b, "mode", mode);
	snprintf(n, sizeof(n), "%u", pcr);
	line(&b, "pcr", n);
	line(&b, "hash", "sha256");
	line(&b, "boot", boot_id);
	*len = b.len;
	return b.p;
}

static int unhex1(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *ward_attest_unescape(const char *v, size_t vn)
{
	char *out = ward_xmalloc(vn + 1), *o = out;
	size_t j;

	for (j = 0; j < vn; j++) {
		if (v[j] == '\\' && j + 3 < vn && v[j + 1] == 'x' && unhex1(v[j + 2]) >= 0 &&
		    unhex1(v[j + 3]) >= 0) {
			*o++ = (char)(unhex1(v[j + 2]) << 4 | unhex1(v[j + 3]));
			j += 3;
		} else {
			*o++ = v[j];
		}
	}
	*o = '\0';
	return out;
}

char *ward_attest_field_raw(const char *body, size_t len, const char *key, size_t *pos)
{
	size_t k = strlen(key), i = pos ? *pos : 0;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - body) : len;

		if (end - i > k && memcmp(body + i, key, k) == 0 && body[i + k] == ' ') {
			if (pos)
				*pos = end + 1;
			return strndup(body + i + k + 1, end - (i + k + 1));
		}
		i = end + 1;
	}
	if (pos)
		*pos = len;
	return NULL;
}

char *ward_attest_field(const char *body, size_t len, const char *key, size_t *pos)
{
	cleanup_free char *raw = ward_attest_field_raw(body, len, key, pos);

	return raw ? ward_attest_unescape(raw, strlen(raw)) : NULL;
}
