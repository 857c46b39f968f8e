/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trust policy: which keys may grant which entitlements.  Pure: parsing,
 * matching and the decision; reading the file is in extract.c, editing it in
 * edit.c.
 *
 * One key per line:
 *
 *   key <base64 public key> [name=NAME] [role=ROLE] [may=PATTERN,...]...
 *       [expires=YYYY-MM-DD] [revoked[=YYYY-MM-DD]]
 *
 * Patterns: "network.loopback" (an entitlement without value), "fs.read=*",
 * "fs.read=/srv/ *" (written without the blank: globs, and a trailing
 * slash-star of a path stands for any depth below the directory),
 * "process.limit<=256", "memory.limit<=1G", "network.listen>=1024",
 * "network.*" (every entitlement of a domain, any value) and "*".  A
 * dangerous entitlement is granted only by a pattern that names it exactly:
 * no glob over names reaches it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"
#include "bundle.h"

#define MAX_KEYS     4096u
#define MAX_PATTERNS 1024u

/* ------------------------------------------------------------ values */

/* A numeric value of an entitlement in its unit; -EINVAL when the kind has
 * no numbers. */
static int parse_number(enum ward_arg_kind kind, const char *s, uint64_t *out)
{
	int r;

	switch (kind) {
	case WARD_ARG_COUNT:
		return ward_parse_u64(s, out);
	case WARD_ARG_SIZE:
		return ward_parse_size(s, out);
	case WARD_ARG_CPUS:
		return ward_parse_milli(s, 1000000, out);
	case WARD_ARG_PORT:
		r = ward_parse_u64(s, out);
		if (r == 0 && *out > 65535)
			return -ERANGE;
		return r;
	case WARD_ARG_NONE:
	case WARD_ARG_PATH:
	case WARD_ARG_HOSTPORT:
	case WARD_ARG_NAME:
	case WARD_ARG_PATHMODE:
	default:
		return -EINVAL;
	}
}

static bool is_numeric_kind(enum ward_arg_kind kind)
{
	return kind == WARD_ARG_COUNT || kind == WARD_ARG_SIZE || kind == WARD_ARG_CPUS ||
	       kind == WARD_ARG_PORT;
}

int ward_parse_date(const char *s, time_t *out)
{
	struct tm tm = {0};
	unsigned y, m, d;
	char tail;

	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || s[4] != '-' ||
	    s[7] != '-')
		return -EINVAL;
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	*out = timegm(&tm);
	/* timegm normalises 2025-02-30 to March: refuse such dates. */
	{
		struct tm back;

		gmtime_r(out, &back);
		if (back.tm_mday != (int)d || back.tm_mon != (int)m - 1)
			return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ patterns */

void ward_trust_pattern_free(struct ward_trust_pattern *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p->name);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

static int lookup_name(const char *name, size_t len, const char *text, const char *origin,
		       ward_error_t *err)
{
	cleanup_free char *n = strndup(name, len);
	const char *hint;
	int idx;

	if (n == NULL)
		abort();
	idx = ward_entitlement_lookup(n);
	if (idx >= 0)
		return idx;
	hint = ward_entitlement_suggest(n);
	if (hint)
		return ward_error_set(
			err, EINVAL,
			"%s: \"%s\": unknown entitlement \"%s\" (did you mean \"%s\"?)", origin,
			text, n, hint);
	return ward_error_set(err, EINVAL,
			      "%s: \"%s\": unknown entitlement \"%s\" (see `ward entitlements`)",
			      origin, text, n);
}

int ward_trust_pattern_parse(const char *text, const char *origin, struct ward_trust_pattern *p,
			     ward_error_t *err)
{
	size_t len = strlen(text), nlen;
	const char *op;
	const struct ward_entitlement *e;
	int idx;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		return ward_error_set(err, EINVAL, "%s: empty pattern", origin);
	if (len > 4096)
		return ward_error_set(err, E2BIG, "%s: pattern longer than 4096 bytes", origin);
	op = strpbrk(text, "=<>");
	nlen = op ? (size_t)(op - text) : len;
	if (memchr(text, '*', nlen) || memchr(text, '?', nlen) || memchr(text, '[', nlen)) {
		size_t i;
		bool any = false;

		/* Globs over names: "*" and "PREFIX.*" only, with no value. */
		if (op)
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": a glob over names takes no value (write "
					      "\"%.*s\" alone)",
					      origin, text, (int)nlen, text);
		if (!(len == 1 && text[0] == '*') &&
		    !(len > 2 && text[len - 1] == '*' && text[len - 2] == '.' &&
		      !memchr(text, '*', len - 1) && !memchr(text, '?', len) &&
		      !memchr(text, '[', len)))
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": names take \"*\" or \"DOMAIN.*\" as "
					      "globs",
					      origin, text);
		p->name = strndup(text, len - 1);
		if (p->name == NULL)
			abort();
		for (i = 0; i < ward_n_entitlements; i++)
			if (ward_str_has_prefix(ward_entitlements[i].name, p->name))
				any = true;
		if (!any) {
			ward_error_set(err, EINVAL, "%s: \"%s\" matches no entitlement", origin,
				       text);
			ward_trust_pattern_free(p);
			return -1;
		}
		p->name_glob = true;
		p->op = WARD_PAT_ANY;
		p->text = ward_xstrdup(text);
		return 0;
	}
	idx = lookup_name(text, nlen, text, origin, err);
	if (idx < 0)
		return -1;
	e = &ward_entitlements[idx];
	if (op == NULL) {
		if (e->arg != WARD_ARG_NONE)
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\" takes a value: write %s=* for any, or "
					      "%s=VALUE (globs allowed)%s",
					      origin, text, e->name, e->name,
					      is_numeric_kind(e->arg) ? ", or a bound such as <=N"
								      : "");
		p->op = WARD_PAT_NOVALUE;
	} else if (op[0] == '=') {
		if (e->arg == WARD_ARG_NONE)
			return ward_error_set(err, EINVAL, "%s: \"%s\": %s takes no value", origin,
					      text, e->name);
		if (op[1] == '\0')
			return ward_error_set(
				err, EINVAL, "%s: \"%s\" has '=' but no value (write %s=* for any)",
				origin, text, e->name);
		p->op = WARD_PAT_VALUE;
		p->value = ward_xstrdup(op + 1);
	} else {
		int r;

		if ((op[0] != '<' && op[0] != '>') || op[1] != '=')
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": bounds are written NAME<=N or NAME>=N",
					      origin, text);
		if (!is_numeric_kind(e->arg))
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": %s takes %s, which has no bound", origin,
					      text, e->name, ward_arg_kind_hint(e->arg));
		r = parse_number(e->arg, op + 2, &p->bound);
		if (r < 0)
			return ward_error_set(err, EINVAL, "%s: \"%s\": the bound is not %s",
					      origin, text, ward_arg_kind_hint(e->arg));
		p->op = op[0] == '<' ? WARD_PAT_LE : WARD_PAT_GE;
	}
	p->name = ward_xstrdup(e->name);
	p->text = ward_xstrdup(text);
	return 0;
}

/* Path globs: '*' does not cross '/', except that a trailing slash-star
 * stands for anything below the directory. */
static bool path_match(const char *pat, const char *value)
{
	cleanup_free char *norm = NULL;
	size_t pl = strlen(pat);

	if (strcmp(pat, "*") == 0)
		return true;
	if (value[0] != '/')
		return fnmatch(pat, value, FNM_PATHNAME) == 0;
	/* ".." never matches: the request is refused by the resolver anyway,
	 * and it must not climb out of a granted directory here. */
	norm = ward_path_normalize(value);
	if (norm == NULL)
		return false;
	if (pl >= 2 && pat[pl - 1] == '*' && pat[pl - 2] == '/') {
		cleanup_free char *base = strndup(pat, pl - 2);
		size_t i;

		if (base == NULL)
			abort();
		for (i = 0; norm[i]; i++) {
			if (norm[i] != '/' || norm[i + 1] == '\0')
				continue;
			norm[i] = '\0';
			if (fnmatch(base, norm, FNM_PATHNAME) == 0) {
				norm[i] = '/';
				return true;
			}
			norm[i] = '/';
		}
		return false;
	}
	return fnmatch(pat, norm, FNM_PATHNAME) == 0;
}

bool ward_trust_pattern_match(const struct ward_trust_pattern *p, const struct ward_request *r)
{
	const struct ward_entitlement *e;
	int idx = ward_entitlement_lookup(r->name);
	uint64_t v;

	if (idx < 0)
		return false;
	e = &ward_entitlements[idx];
	if (p->name_glob)
		return !(e->flags & WARD_ENT_DANGEROUS) && ward_str_has_prefix(e->name, p->name);
	if (strcmp(p->name, e->name) != 0)
		return false;
	switch (p->op) {
	case WARD_PAT_NOVALUE:
		return r->value == NULL;
	case WARD_PAT_VALUE:
		if (r->value == NULL)
			return false;
		if (e->arg == WARD_ARG_PATH)
			return path_match(p->value, r->value);
		return fnmatch(p->value, r->value, 0) == 0;
	case WARD_PAT_LE:
	case WARD_PAT_GE:
		if (r->value == NULL || parse_number(e->arg, r->value, &v) < 0)
			return false;
		return p->op == WARD_PAT_LE ? v <= p->bound : v >= p->bound;
	case WARD_PAT_ANY:
	default:
		return false;
	}
}

/* ------------------------------------------------------------ the file */

static void key_free(struct ward_trust_key *k)
{
	size_t i;

	free(k->name);
	free(k->role);
	free(k->revoked_on);
	for (i = 0; i < k->n_may; i++)
		ward_trust_pattern_free(&k->may[i]);
	free(k->may);
}

void ward_trust_free(struct ward_trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_keys; i++)
		key_free(&t->keys[i]);
	free(t->keys);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

const struct ward_trust_key *ward_trust_find(const struct ward_trust *t,
					     const uint8_t keyid[WARD_KEYID_BYTES])
{
	size_t i;

	if (t == NULL)
		return NULL;
	for (i = 0; i < t->n_keys; i++)
		if (memcmp(t->keys[i].pk.keyid, keyid, WARD_KEYID_BYTES) == 0)
			return &t->keys[i];
	return NULL;
}

static bool role_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

static int add_patterns(struct ward_trust_key *k, const char *list, const char *origin,
			ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(list);
	char *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k->n_may >= MAX_PATTERNS)
			return ward_error_set(err, E2BIG, "%s: more than %u patterns", origin,
					      MAX_PATTERNS);
		k->may = ward_xrealloc(k->may, (k->n_may + 1) * sizeof(*k->may));
		if (ward_trust_pattern_parse(tok, origin, &k->may[k->n_may], err) < 0)
			return -1;
		k->n_may++;
	}
	return 0;
}

static int parse_key_line(struct ward_trust_key *k, char *line, const char *origin,
			  ward_error_t *err)
{
	char *save = NULL, *tok;
	bool have_key = false;

	tok = strtok_r(line, " \t", &save); /* "key" */
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(tok, '=');

		if (!have_key) {
			if (ward_pubkey_parse(tok, strlen(tok), origin, &k->pk, err) < 0)
				return ward_error_wrap(err,
						       "%s: after \"key\" comes the base64 "
						       "public key (the second line of a "
						       ".pub file)",
						       origin);
			ward_keyid_hex(k->pk.keyid, k->keyid);
			have_key = true;
			continue;
		}
		if (eq == NULL) {
			if (strcmp(tok, "revoked") == 0) {
				k->revoked = true;
				continue;
			}
			return ward_error_set(
				err, EINVAL,
				"%s: \"%s\": expected name=, role=, may=, expires= or "
				"revoked",
				origin, tok);
		}
		*eq = '\0';
		if (strcmp(tok, "name") == 0) {
			if (k->name || eq[1] == '\0')
				return ward_error_set(err, EINVAL, "%s: name= once, not empty",
						      origin);
			k->name = ward_xstrdup(eq + 1);
		} else if (strcmp(tok, "role") == 0) {
			if (k->role || !role_ok(eq + 1))
				return ward_error_set(err, EINVAL,
						      "%s: role= once, lower-case letters, digits, "
						      "- and _",
						      origin);
			k->role = ward_xstrdup(eq + 1);
		} else if (strcmp(tok, "may") == 0) {
			if (add_patterns(k, eq + 1, origin, err) < 0)
				return -1;
		} else if (strcmp(tok, "expires") == 0) {
			if (k->expires || ward_parse_date(eq + 1, &k->expires) < 0)
				return ward_error_set(err, EINVAL,
						      "%s: expires=YYYY-MM-DD (once; the key is "
						      "trusted until that day begins, UTC)",
						      origin);
		} else if (strcmp(tok, "revoked") == 0) {
			time_t when;

			if (ward_parse_date(eq + 1, &when) < 0)
				return ward_error_set(err, EINVAL, "%s: revoked=YYYY-MM-DD",
						      origin);
			k->revoked = true;
			free(k->revoked_on);
			k->revoked_on = ward_xstrdup(eq + 1);
		} else {
			return ward_error_set(err, EINVAL,
					      "%s: unknown attribute \"%s\" (name=, role=, may=, "
					      "expires=, revoked)",
					      origin, tok);
		}
	}
	if (!have_key)
		return ward_error_set(err, EINVAL, "%s: \"key\" needs the base64 public key",
				      origin);
	return 0;
}

int ward_trust_parse(const char *text, size_t len, const char *path, struct ward_trust *t,
		     ward_error_t *err)
{
	size_t pos = 0;
	unsigned lineno = 0;

	memset(t, 0, sizeof(*t));
	t->path = ward_xstrdup(path);
	if (len > WARD_TRUST_MAX) {
		ward_error_set(err, EFBIG, "%s: larger than %u bytes", path, WARD_TRUST_MAX);
		goto fail;
	}
	if (memchr(text, '\0', len)) {
		ward_error_set(err, EINVAL, "%s: NUL byte (not a text file)", path);
		goto fail;
	}
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos, i;
		cleanup_free char *line = NULL;
		char origin[600];
		struct ward_trust_key *k;

		lineno++;
		pos += l + (nl ? 1 : 0);
		snprintf(origin, sizeof(origin), "%.500s:%u", path, lineno);
		if (l > 65536) {
			ward_error_set(err, E2BIG, "%s: line longer than 64 KiB", origin);
			goto fail;
		}
		line = strndup(s, l);
		if (line == NULL)
			abort();
		/* Comments: '#' at the start or after a blank. */
		for (i = 0; line[i]; i++) {
			if (line[i] == '#' &&
			    (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
				line[i] = '\0';
				break;
			}
			if (line[i] == '\r')
				line[i] = ' ';
		}
		i = strspn(line, " \t");
		if (line[i] == '\0')
			continue;
		if (strncmp(line + i, "key", 3) != 0 ||
		    (line[i + 3] != ' ' && line[i + 3] != '\t')) {
			ward_error_set(err, EINVAL,
				       "%s: expected \"key <base64 public key> [may=...]\"",
				       origin);
			goto fail;
		}
		if (t->n_keys >= MAX_KEYS) {
			ward_error_set(err, E2BIG, "%s: more than %u keys", origin, MAX_KEYS);
			goto fail;
		}
		t->keys = ward_xrealloc(t->keys, (t->n_keys + 1) * sizeof(*t->keys));
		k = &t->keys[t->n_keys++];
		memset(k, 0, sizeof(*k));
		k->line = lineno;
		if (parse_key_line(k, line + i, origin, err) < 0)
			goto fail;
		for (i = 0; i + 1 < t->n_keys; i++) {
			if (memcmp(t->keys[i].pk.keyid, k->pk.keyid, WARD_KEYID_BYTES) == 0) {
				ward_error_set(err, EEXIST,
					       "%s: key %s is already listed at line %u (one line "
					       "per key)",
					       origin, k->keyid, t->keys[i].line);
				goto fail;
			}
		}
	}
	return 0;
fail:
	ward_trust_free(t);
	return -1;
}

/* ------------------------------------------------------------ the decision */

const char *ward_signer_status_str(enum ward_signer_status s)
{
	switch (s) {
	case WARD_SIGNER_TRUSTED:
		return "valid, trusted";
	case WARD_SIGNER_VERIFIED:
		return "valid, but the key is not in the trust policy";
	case WARD_SIGNER_UNKNOWN:
		return "not checked: the key is not in the trust policy";
	case WARD_SIGNER_REVOKED:
		return "valid, but the key is revoked";
	case WARD_SIGNER_EXPIRED:
		return "valid, but the trust in the key has expired";
	case WARD_SIGNER_WRONG_ROLE:
		return "valid, but the policy limits the key to another role";
	default:
		return "?";
	}
}

void ward_trust_report_free(struct ward_trust_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

static void sb_add(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(char **buf, const char *fmt, ...)
{
	char *piece = NULL, *joined;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&piece, fmt, ap) < 0)
		abort();
	va_end(ap);
	joined = ward_xasprintf("%s%s", *buf ? *buf : "", piece);
	free(piece);
	free(*buf);
	*buf = joined;
}

static void describe_key(char **buf, const struct ward_trust *t, const struct ward_trust_key *k)
{
	size_t i;

	sb_add(buf, "key %s", k->keyid);
	if (k->name)
		sb_add(buf, " \"%s\"", k->name);
	sb_add(buf, " (%s:%u) may ", t->path, k->line);
	if (k->n_may == 0)
		sb_add(buf, "grant nothing");
	for (i = 0; i < k->n_may; i++)
		sb_add(buf, "%s%s", i ? "," : "", k->may[i].text);
}

static void describe_signer_problem(char **buf, const struct ward_trust *t,
				    const struct ward_signer *s)
{
	const struct ward_trust_key *k = s->key;

	sb_add(buf, "\n  %s: key %s%s%s: ", s->file, s->keyid, s->role[0] ? ", role " : "",
	       s->role);
	switch (s->status) {
	case WARD_SIGNER_UNKNOWN:
	case WARD_SIGNER_VERIFIED:
		sb_add(buf, "not in the trust policy %s", t ? t->path : "(none)");
		break;
	case WARD_SIGNER_REVOKED:
		sb_add(buf, "revoked%s%s (%s:%u)", k->revoked_on ? " on " : "",
		       k->revoked_on ? k->revoked_on : "", t->path, k->line);
		break;
	case WARD_SIGNER_EXPIRED: {
		char date[32];
		struct tm tm;

		gmtime_r(&k->expires, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		sb_add(buf, "trusted only until %s (%s:%u)", date, t->path, k->line);
		break;
	}
	case WARD_SIGNER_WRONG_ROLE:
		sb_add(buf, "the policy trusts it only as %s (%s:%u)", k->role, t->path, k->line);
		break;
	case WARD_SIGNER_TRUSTED:
	default:
		sb_add(buf, "trusted");
		break;
	}
}

/* Signers whose key would grant the request if it were usable. */
static void describe_unusable(char **buf, const struct ward_trust *t,
			      const struct ward_signer *signers, size_t n,
			      const struct ward_request *r)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct ward_signer *s = &signers[i];
		const struct ward_trust_key *key = s->key;

		if (key == NULL || s->status == WARD_SIGNER_TRUSTED)
			continue;
		for (k = 0; k < key->n_may; k++) {
			if (!ward_trust_pattern_match(&key->may[k], r))
				continue;
			sb_add(buf, "\n    key %s", key->keyid);
			if (key->name)
				sb_add(buf, " \"%s\"", key->name);
			sb_add(buf, " (%s:%u) could grant it with \"%s\", but ", t->path, key->line,
			       key->may[k].text);
			if (s->status == WARD_SIGNER_REVOKED) {
				sb_add(buf, "it is revoked");
			} else if (s->status == WARD_SIGNER_EXPIRED) {
				char date[32];
				struct tm tm;

				gmtime_r(&key->expires, &tm);
				strftime(date, sizeof(date), "%Y-%m-%d", &tm);
				sb_add(buf, "the trust in it ended on %s", date);
			} else {
				sb_add(buf, "the policy trusts it only as %s, and it signed as %s",
				       key->role ? key->role : "?",
				       s->role[0] ? s->role : "(none)");
			}
			break;
		}
	}
}

static char *request_text(const struct ward_request *r)
{
	return r->value ? ward_xasprintf("%s=%s", r->name, r->value) : ward_xstrdup(r->name);
}

int ward_trust_decide(const struct ward_trust *t, const struct ward_signer *signers, size_t n,
		      const struct ward_request_list *reqs, struct ward_trust_report *rep,
		      ward_error_t *err)
{
	cleanup_free char *msg = NULL;
	size_t i, j, k;

	memset(rep, 0, sizeof(*rep));
	for (i = 0; i < n; i++)
		if (signers[i].status == WARD_SIGNER_TRUSTED)
			rep->n_trusted_signers++;
	if (rep->n_trusted_signers == 0) {
		if (n == 0)
			return ward_error_set(err, EPERM,
					      "the bundle is not signed (sign it: ward bundle sign "
					      "--key KEY BUNDLE)");
		sb_add(&msg, "no signature of the bundle is by a key the trust policy %s trusts:",
		       t ? t->path : WARD_TRUST_DEFAULT);
		for (i = 0; i < n; i++)
			describe_signer_problem(&msg, t, &signers[i]);
		sb_add(&msg, "\n  (trust a key with: ward trust add --key KEY.pub --may "
			     "ENTITLEMENTS)");
		return ward_error_set(err, EPERM, "%s", msg);
	}
	rep->items = ward_xcalloc(reqs->n ? reqs->n : 1, sizeof(*rep->items));
	rep->n = reqs->n;
	for (i = 0; i < reqs->n; i++) {
		const struct ward_request *r = &reqs->items[i];
		struct ward_decision *d = &rep->items[i];
		int idx = ward_entitlement_lookup(r->name);

		d->req = r;
		if (idx >= 0 && (ward_entitlements[idx].flags & WARD_ENT_DEFAULT) &&
		    r->value == NULL) {
			d->granted = d->by_default = true;
			continue;
		}
		for (j = 0; j < n && !d->granted; j++) {
			const struct ward_signer *s = &signers[j];

			if (s->status != WARD_SIGNER_TRUSTED)
				continue;
			for (k = 0; k < s->key->n_may; k++) {
				if (ward_trust_pattern_match(&s->key->may[k], r)) {
					d->granted = true;
					d->signer = s;
					d->pattern = &s->key->may[k];
					break;
				}
			}
		}
		if (!d->granted)
			rep->n_refused++;
	}
	if (rep->n_refused == 0)
		return 0;

	sb_add(&msg, "%zu entitlement%s of the bundle %s not granted by the trust policy %s:",
	       rep->n_refused, rep->n_refused == 1 ? "" : "s", rep->n_refused == 1 ? "is" : "are",
	       t->path);
	for (i = 0; i < rep->n; i++) {
		const struct ward_decision *d = &rep->items[i];
		cleanup_free char *what = NULL;
		int idx;
		bool dangerous;

		if (d->granted)
			continue;
		what = request_text(d->req);
		idx = ward_entitlement_lookup(d->req->name);
		dangerous = idx >= 0 && (ward_entitlements[idx].flags & WARD_ENT_DANGEROUS);
		sb_add(&msg, "\n  %s: %s%s is not granted by any trusted signer", d->req->origin,
		       what, dangerous ? " (dangerous)" : "");
		describe_unusable(&msg, t, signers, n, d->req);
		for (j = 0; j < n; j++) {
			const struct ward_signer *s = &signers[j];

			if (s->status != WARD_SIGNER_TRUSTED)
				continue;
			sb_add(&msg, "\n    ");
			describe_key(&msg, t, s->key);
			if (dangerous) {
				for (k = 0; k < s->key->n_may; k++) {
					const struct ward_trust_pattern *p = &s->key->may[k];

					if (p->name_glob &&
					    ward_str_has_prefix(d->req->name, p->name)) {
						sb_add(&msg,
						       "\n      (\"%s\" does not reach %s: a "
						       "dangerous entitlement must be named "
						       "exactly)",
						       p->text, d->req->name);
						break;
					}
				}
			}
		}
	}
	for (i = 0; i < rep->n; i++) {
		if (!rep->items[i].granted) {
			cleanup_free char *what = request_text(rep->items[i].req);

			sb_add(&msg,
			       "\n  (to trust it: ward trust add --key SIGNER.pub --may '%s'; "
			       "or, as the operator, run with --allow %s)",
			       what, what);
			break;
		}
	}
	return ward_error_set(err, EPERM, "%s", msg);
}
