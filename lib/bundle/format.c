/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bundle manifest and the root filesystem digest.  Pure: no I/O.
 *
 * A manifest is an entitlement manifest (one entitlement per line, '#'
 * comments) whose header lines start with "#@" at the start of a line:
 *
 *   #@ward-bundle 1
 *   #@name hello
 *   #@version 1.0
 *   #@command /bin/hello
 *   #@arg --loud
 *   #@env LANG=C.UTF-8
 *   #@cwd /
 *   #@rootfs sha256:<64 hex digits>
 *   network.loopback
 *
 * To ward's entitlement parser the headers are comments, so `ward explain
 * --manifest` reads a bundle manifest as it is.  The signature covers these
 * bytes exactly; the digest line binds the root filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "bundle.h"

#define MAX_ARGS     1024u
#define MAX_ENV	     1024u
#define MAX_NAME_LEN 128u
#define HEADER	     "#@"

void ward_manifest_free(struct ward_bundle_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->name);
	free(m->version);
	for (i = 0; i < m->argc; i++)
		free(m->argv[i]);
	free(m->argv);
	for (i = 0; i < m->n_env; i++)
		free(m->env[i]);
	free(m->env);
	free(m->cwd);
	ward_request_list_free(&m->reqs);
	memset(m, 0, sizeof(*m));
}

static bool name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MAX_NAME_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+' || c == '~'))
			return false;
	}
	return true;
}

static bool value_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool env_ok(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t i, n;

	if (eq == NULL || eq == s)
		return false;
	n = (size_t)(eq - s);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		      (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static int parse_digest(const char *s, size_t len, uint8_t out[32])
{
	size_t i;

	if (len != 7 + 64 || memcmp(s, "sha256:", 7) != 0)
		return -EINVAL;
	for (i = 0; i < 32; i++) {
		char h = s[7 + 2 * i], l = s[8 + 2 * i];
		int hv = (h >= '0' && h <= '9')	  ? h - '0'
			 : (h >= 'a' && h <= 'f') ? h - 'a' + 10
						  : -1;
		int lv = (l >= '0' && l <= '9')	  ? l - '0'
			 : (l >= 'a' && l <= 'f') ? l - 'a' + 10
						  : -1;

		if (hv < 0 || lv < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hv << 4 | lv);
	}
	return 0;
}

static char *dup_value(const char *s, size_t len)
{
	char *v = strndup(s, len);

	if (v == NULL)
		abort();
	return v;
}

static void push_str(char ***arr, size_t *n, const char *s, size_t len)
{
	*arr = ward_xrealloc(*arr, (*n + 2) * sizeof(**arr));
	(*arr)[(*n)++] = dup_value(s, len);
	(*arr)[*n] = NULL;
}

/* One "#@key value" line. */
static int parse_header(struct ward_bundle_manifest *m, const char *line, size_t len,
			const char *where, bool *have_digest, ward_error_t *err)
{
	const char *key = line + 2, *sp = memchr(key, ' ', len - 2);
	size_t klen = sp ? (size_t)(sp - key) : len - 2;
	const char *v = sp ? sp + 1 : line + len;
	size_t vlen = sp ? len - 2 - klen - 1 : 0;

#define KEY_IS(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)
	if (!value_ok(v, vlen))
		return ward_error_set(err, EINVAL, "%s: control character in a header value",
				      where);
	if (KEY_IS("ward-bundle"))
		return ward_error_set(err, EINVAL,
				      "%s: \"#@ward-bundle\" must be the first line, and only once",
				      where);
	if (KEY_IS("name") || KEY_IS("version")) {
		char **slot = KEY_IS("name") ? &m->name : &m->version;

		if (*slot)
			return ward_error_set(err, EINVAL, "%s: #@%.*s given twice", where,
					      (int)klen, key);
		if (!name_ok(v, vlen))
			return ward_error_set(
				err, EINVAL,
				"%s: #@%.*s: use 1 to %u letters, digits and . _ - + ~", where,
				(int)klen, key, MAX_NAME_LEN);
		*slot = dup_value(v, vlen);
		return 0;
	}
	if (KEY_IS("command")) {
		if (m->argc > 0)
			return ward_error_set(err, EINVAL,
					      "%s: #@command given twice (further arguments are "
					      "#@arg lines)",
					      where);
		if (vlen == 0)
			return ward_error_set(err, EINVAL, "%s: #@command needs a program", where);
		push_str(&m->argv, &m->argc, v, vlen);
		return 0;
	}
	if (KEY_IS("arg")) {
		if (m->argc == 0)
			return ward_error_set(err, EINVAL, "%s: #@arg before #@command", where);
		if (m->argc >= MAX_ARGS)
			return ward_error_set(err, E2BIG, "%s: more than %u arguments", where,
					      MAX_ARGS);
		push_str(&m->argv, &m->argc, v, vlen);
		return 0;
	}
	if (KEY_IS("env")) {
		if (!env_ok(v, vlen))
			return ward_error_set(err, EINVAL,
					      "%s: #@env takes NAME=VALUE (NAME of letters, digits "
					      "and _)",
					      where);
		if (m->n_env >= MAX_ENV)
			return ward_error_set(err, E2BIG, "%s: more than %u #@env lines", where,
					      MAX_ENV);
		push_str(&m->env, &m->n_env, v, vlen);
		return 0;
	}
	if (KEY_IS("cwd")) {
		cleanup_free char *val = dup_value(v, vlen);
		cleanup_free char *norm = ward_path_normalize(val);

		if (m->cwd)
			return ward_error_set(err, EINVAL, "%s: #@cwd given twice", where);
		if (norm == NULL || strcmp(norm, val) != 0)
			return ward_error_set(
				err, EINVAL,
				"%s: #@cwd must be an absolute path without \".\", \"..\" "
				"or \"//\"",
				where);
		m->cwd = steal_pointer(&val);
		return 0;
	}
	if (KEY_IS("rootfs")) {
		if (*have_digest)
			return ward_error_set(err, EINVAL, "%s: #@rootfs given twice", where);
		if (parse_digest(v, vlen, m->rootfs_digest) < 0)
			return ward_error_set(err, EINVAL,
					      "%s: #@rootfs takes sha256: and 64 lower-case hex "
					      "digits",
					      where);
		*have_digest = true;
		return 0;
	}
#undef KEY_IS
	return ward_error_set(err, EINVAL,
			      "%s: unknown header \"#@%.*s\" (known: name, version, command, arg, "
			      "env, cwd, rootfs)",
			      where, (int)(klen > 64 ? 64 : klen), key);
}

/* Would ward_escape show the line as it is (tabs and backslashes aside)?
 * Entitlement values, arguments and names of a manifest end up in messages
 * on the operator's terminal: no byte of them may drive it. */
static bool line_clean(const char *line, size_t len)
{
	cleanup_free char *e = ward_escape_mem(line, len, 0);
	size_t want = len, i;

	for (i = 0; i < len; i++)
		if (line[i] == '\t' || line[i] == '\\')
			want++;
	return strlen(e) == want;
}

int ward_manifest_parse(const char *text, size_t len, const char *origin,
			struct ward_bundle_manifest *m, ward_error_t *err)
{
	static const char first[] = HEADER "ward-bundle 1\n";
	bool have_digest = false;
	unsigned lineno = 0;
	size_t pos = 0;

	memset(m, 0, sizeof(*m));
	if (len > WARD_BUNDLE_MANIFEST_MAX)
		return ward_error_set(err, EFBIG, "%s: the manifest is larger than %u bytes",
				      origin, WARD_BUNDLE_MANIFEST_MAX);
	if (memchr(text, '\0', len))
		return ward_error_set(err, EINVAL, "%s: NUL byte in the manifest", origin);
	if (memchr(text, '\r', len))
		return ward_error_set(err, EINVAL,
				      "%s: carriage return in the manifest (bundle manifests use "
				      "LF line ends only)",
				      origin);
	if (len < sizeof(first) - 1 || memcmp(text, first, sizeof(first) - 1) != 0)
		return ward_error_set(err, EINVAL,
				      "%s:1: not a bundle manifest (the first line must be "
				      "\"#@ward-bundle 1\")",
				      origin);
	pos = sizeof(first) - 1;
	lineno = 1;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		char where[600];
		size_t a = 0;

		lineno++;
		pos += llen + (nl ? 1 : 0);
		snprintf(where, sizeof(where), "%.500s:%u", origin, lineno);
		if (!line_clean(line, llen)) {
			ward_error_set(err, EINVAL,
				       "%s: control character, invalid UTF-8 or bidirectional "
				       "override (a manifest's text reaches terminals and logs as "
				       "it is)",
				       where);
			goto fail;
		}
		while (a < llen && (line[a] == ' ' || line[a] == '\t'))
			a++;
		if (llen - a >= 2 && memcmp(line + a, HEADER, 2) == 0) {
			if (a > 0) {
				ward_error_set(
					err, EINVAL,
					"%s: header lines start at the beginning of the line",
					where);
				goto fail;
			}
			if (parse_header(m, line, llen, where, &have_digest, err) < 0)
				goto fail;
		}
	}
	if (m->argc == 0) {
		ward_error_set(err, EINVAL, "%s: no #@command line: what should run?", origin);
		goto fail;
	}
	if (!have_digest) {
		ward_error_set(err, EINVAL,
			       "%s: no #@rootfs line: the manifest does not bind a root filesystem",
			       origin);
		goto fail;
	}
	/* The entitlements: ward's own parser, which takes the headers for the
	 * comments they look like. */
	if (ward_parse_manifest(&m->reqs, text, len, origin, err) < 0)
		goto fail;
	return 0;
fail:
	ward_manifest_free(m);
	return -1;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 1024;
		*buf = ward_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void appendf(char **buf, size_t *len, size_t *cap, const char *key, const char *v)
{
	cleanup_free char *line = ward_xasprintf(HEADER "%s %s\n", key, v);

	append(buf, len, cap, line, strlen(line));
}

char *ward_manifest_compose(const struct ward_manifest_input *in, size_t *len_out,
			    ward_error_t *err)
{
	struct ward_bundle_manifest check;
	char digest[72];
	char *buf = NULL;
	size_t len = 0, cap = 0, i;

	if (in->argv == NULL || in->argv[0] == NULL) {
		ward_error_set(err, EINVAL, "a bundle needs a command (--cmd PROGRAM)");
		return NULL;
	}
	append(&buf, &len, &cap, HEADER "ward-bundle 1\n", strlen(HEADER "ward-bundle 1\n"));
	if (in->name)
		appendf(&buf, &len, &cap, "name", in->name);
	if (in->version)
		appendf(&buf, &len, &cap, "version", in->version);
	appendf(&buf, &len, &cap, "command", in->argv[0]);
	for (i = 1; in->argv[i]; i++)
		appendf(&buf, &len, &cap, "arg", in->argv[i]);
	for (i = 0; i < in->n_env; i++)
		appendf(&buf, &len, &cap, "env", in->env[i]);
	if (in->cwd)
		appendf(&buf, &len, &cap, "cwd", in->cwd);
	ward_digest_format(in->rootfs_digest, digest);
	appendf(&buf, &len, &cap, "rootfs", digest);
	if (in->entitlements && in->entitlements_len > 0) {
		append(&buf, &len, &cap, "\n", 1);
		append(&buf, &len, &cap, in->entitlements, in->entitlements_len);
		if (in->entitlements[in->entitlements_len - 1] != '\n')
			append(&buf, &len, &cap, "\n", 1);
	}
	/* A value with a newline would have started a line of its own: parsing
	 * the result back catches it, and everything else the parser refuses. */
	if (ward_manifest_parse(buf, len, "manifest", &check, err) < 0) {
		free(buf);
		return NULL;
	}
	ward_manifest_free(&check);
	*len_out = len;
	return buf;
}

/* ------------------------------------------------------------ the digest */

void ward_tree_free(struct ward_tree *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->items[i].path);
		free(t->items[i].target);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}

struct ward_tree_entry *ward_tree_push(struct ward_tree *t)
{
	struct ward_tree_entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->items = ward_xrealloc(t->items, t->cap * sizeof(*t->items));
	}
	e = &t->items[t->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ward_tree_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static bool path_ok(const char *p)
{
	const char *c = p;

	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	while (*c) {
		const char *s = c + 1, *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		c = s + n;
	}
	return true;
}

int ward_tree_finish(struct ward_tree *t, const char *what, ward_error_t *err)
{
	size_t i;

	if (t->n > 1)
		qsort(t->items, t->n, sizeof(*t->items), cmp_entry);
	if (t->n == 0 || strcmp(t->items[0].path, "/") != 0 || t->items[0].type != 'd')
		return ward_error_set(err, EINVAL, "%s: the root filesystem has no root directory",
				      what);
	for (i = 0; i < t->n; i++) {
		const struct ward_tree_entry *e = &t->items[i];
		struct ward_tree_entry key = {0}, *parent;
		cleanup_free char *dir = NULL;
		char *slash;

		if (!path_ok(e->path))
			return ward_error_set(err, EINVAL, "%s: invalid path \"%s\"", what,
					      e->path);
		if (i > 0 && strcmp(e->path, t->items[i - 1].path) == 0)
			return ward_error_set(err, EEXIST, "%s: %s appears twice", what, e->path);
		if (i == 0)
			continue;
		dir = ward_xstrdup(e->path);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		key.path = dir;
		parent = bsearch(&key, t->items, t->n, sizeof(*t->items), cmp_entry);
		if (parent == NULL || parent->type != 'd')
			return ward_error_set(err, ENOENT,
					      "%s: %s is in %s, which is not a directory of the "
					      "root filesystem",
					      what, e->path, dir);
	}
	return 0;
}

/* Bytes outside '!'..'~' and the backslash are written as \xHH, so that
 * every field is one word and every path one line. */
static void append_escaped(char **buf, size_t *len, size_t *cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\') {
			char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};

			append(buf, len, cap, esc, 4);
		} else {
			append(buf, len, cap, (const char *)p, 1);
		}
	}
}

char *ward_tree_listing(const struct ward_tree *t, size_t *len_out)
{
	static const char head[] = "ward-rootfs-digest 1\n";
	char *buf = NULL;
	size_t len = 0, cap = 0, i;

	append(&buf, &len, &cap, head, sizeof(head) - 1);
	for (i = 0; i < t->n; i++) {
		const struct ward_tree_entry *e = &t->items[i];
		char num[128];

		append_escaped(&buf, &len, &cap, e->path);
		snprintf(num, sizeof(num), " %c %04o %u %u", e->type, e->mode & 07777, e->uid,
			 e->gid);
		append(&buf, &len, &cap, num, strlen(num));
		if (e->type == 'f') {
			char d[72];

			ward_digest_format(e->sha256, d);
			snprintf(num, sizeof(num), " %llu %s", (unsigned long long)e->size, d + 7);
			append(&buf, &len, &cap, num, strlen(num));
		} else if (e->type == 'l') {
			append(&buf, &len, &cap, " ", 1);
			append_escaped(&buf, &len, &cap, e->target ? e->target : "");
		}
		append(&buf, &len, &cap, "\n", 1);
	}
	if (len_out)
		*len_out = len;
	return buf;
}

void ward_tree_digest(const struct ward_tree *t, uint8_t out[32])
{
	size_t len;
	cleanup_free char *listing = ward_tree_listing(t, &len);

	crypto_hash_sha256(out, (const unsigned char *)listing, len);
}

void ward_digest_format(const uint8_t d[32], char out[72])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[d[i] >> 4];
		out[8 + 2 * i] = hex[d[i] & 15];
	}
	out[71] = '\0';
}
