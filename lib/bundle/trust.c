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
#include <arpa/inet.h>
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
	case WARD_ARG_PORT: {
		uint16_t port = 0;

		/* As the resolver reads it (leading zeros, 1..65535). */
		r = ward_parse_port(s, strlen(s), &port);
		*out = port;
		return r < 0 ? -EINVAL : 0;
	}
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

static bool is_glob_char(char c)
{
	return c == '*' || c == '?' || c == '[' || c == ']' || c == '!';
}

/* "*", "N" or "N-M" (1..65535). */
static int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');

	if (strcmp(s, "*") == 0) {
		*lo = 1;
		*hi = 65535;
		return 0;
	}
	if (dash == NULL) {
		if (ward_parse_port(s, strlen(s), lo) < 0)
			return -EINVAL;
		*hi = *lo;
		return 0;
	}
	if (ward_parse_port(s, (size_t)(dash - s), lo) < 0 ||
	    ward_parse_port(dash + 1, strlen(dash + 1), hi) < 0 || *lo > *hi)
		return -EINVAL;
	return 0;
}

/* The host part of a network.connect pattern.  A glob over addresses
 * ("10.0.0.*") is refused: fnmatch lets its '*' match "5.nip.io" too, so
 * it would grant host names whose owner picks the address.  Addresses are
 * written as CIDR, names as globs whose wildcards stay within a label. */
static int parse_host_pattern(const char *host, const char *port, const char *text,
			      const char *origin, struct ward_trust_pattern *p, ward_error_t *err)
{
	cleanup_free char *h = ward_xstrdup(host);
	const char *slash;
	struct in_addr in;
	bool letter = false;
	size_t i;

	for (i = 0; h[i]; i++)
		if (h[i] >= 'A' && h[i] <= 'Z')
			h[i] = (char)(h[i] - 'A' + 'a');
	if (strcmp(h, "*") == 0) {
		p->host = WARD_HOSTPAT_ANY;
		return 0;
	}
	slash = strchr(h, '/');
	if (slash || inet_pton(AF_INET, h, &in) == 1) {
		uint64_t bits = 32;
		uint32_t mask;

		if (slash) {
			cleanup_free char *a = strndup(h, (size_t)(slash - h));

			if (a == NULL)
				abort();
			if (inet_pton(AF_INET, a, &in) != 1 || slash[1] < '0' || slash[1] > '9' ||
			    ward_parse_u64(slash + 1, &bits) < 0 || bits > 32 ||
			    strlen(slash + 1) > 2)
				return ward_error_set(err, EINVAL,
						      "%s: \"%s\": write a network as "
						      "A.B.C.D/BITS (e.g. "
						      "network.connect=10.0.0.0/24:443)",
						      origin, text);
		}
		mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
		p->host = WARD_HOSTPAT_CIDR;
		p->net = ntohl(in.s_addr);
		p->prefix = (uint32_t)bits;
		if (p->net & ~mask) {
			struct in_addr n = {.s_addr = htonl(p->net & mask)};
			char buf[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &n, buf, sizeof(buf));
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": the network has host bits set (did you "
					      "mean %s/%u?)",
					      origin, text, buf, (unsigned)bits);
		}
		return 0;
	}
	for (i = 0; h[i]; i++) {
		char c = h[i];

		if ((c >= 'a' && c <= 'z') || c == '-' || c == '_')
			letter = true;
		else if (!((c >= '0' && c <= '9') || c == '.' || is_glob_char(c)))
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": a host is *, an IPv4 network "
					      "(10.0.0.0/24), an address, or a host name (globs "
					      "allowed: *.example.com)",
					      origin, text);
	}
	if (!letter) {
		/* "10.0.0.*", "10.*", "192.168.[0-9].*": say which network. */
		size_t fixed = 0, len = strlen(h);
		bool trailing = len >= 2 && h[len - 1] == '*' && h[len - 2] == '.';

		for (i = 0; trailing && i + 2 < len; i++)
			if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
				trailing = false;
		for (i = 0; trailing && i + 1 < len; i++)
			if (h[i] == '.')
				fixed++;
		if (trailing && fixed >= 1 && fixed <= 3) {
			cleanup_free char *net = ward_xstrdup(h);
			size_t k;

			net[len - 1] = '\0';
			for (k = fixed; k < 4; k++) {
				char *joined = ward_xasprintf("%s0%s", net, k < 3 ? "." : "");

				free(net);
				net = joined;
			}
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": globs over addresses are not accepted "
					      "(they match host names too: 10.0.0.* matches "
					      "10.0.0.5.nip.io); write the network in CIDR form: "
					      "%s=%s/%zu:%s",
					      origin, text, p->name, net, 8 * fixed, port);
		}
		return ward_error_set(err, EINVAL,
				      "%s: \"%s\": globs over addresses are not accepted (they "
				      "match host names too); write networks in CIDR form "
				      "(10.0.0.0/24), or * for any host",
				      origin, text);
	}
	p->host = WARD_HOSTPAT_NAME;
	p->value = steal_pointer(&h);
	return 0;
}

/* The value of a NAME=VALUE pattern, read as the entitlement reads its
 * value, so that the pattern is matched against what is enforced. */
static int parse_value(const struct ward_entitlement *e, const char *v, const char *text,
		       const char *origin, struct ward_trust_pattern *p, ward_error_t *err)
{
	size_t i;

	switch (e->arg) {
	case WARD_ARG_HOSTPORT: {
		const char *colon = strrchr(v, ':');
		cleanup_free char *host = NULL;

		if (strcmp(v, "*") == 0) {
			p->host = WARD_HOSTPAT_ANY;
			p->port_lo = 1;
			p->port_hi = 65535;
			return 0;
		}
		if (colon == NULL || colon == v ||
		    parse_port_range(colon + 1, &p->port_lo, &p->port_hi) < 0)
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": write HOST:PORT, where PORT is a "
					      "number, a range N-M or *, and HOST is *, a network "
					      "(10.0.0.0/24), an address or a host name (e.g. "
					      "network.connect=10.0.0.0/24:443, "
					      "network.connect=*.example.com:1024-2048)",
					      origin, text);
		host = strndup(v, (size_t)(colon - v));
		if (host == NULL)
			abort();
		return parse_host_pattern(host, colon + 1, text, origin, p, err);
	}
	case WARD_ARG_PORT:
		if (parse_port_range(v, &p->port_lo, &p->port_hi) < 0)
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": write a port, a range N-M, or * (or a "
					      "bound: %s>=1024)",
					      origin, text, e->name);
		return 0;
	case WARD_ARG_NAME:
		for (i = 0; v[i]; i++) {
			char c = v[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
			      c == '_' || c == '-' || is_glob_char(c)))
				return ward_error_set(err, EINVAL,
						      "%s: \"%s\": names are a-z 0-9 . _ - with "
						      "globs (db-*, db-?)",
						      origin, text);
		}
		p->value = ward_xstrdup(v);
		return 0;
	case WARD_ARG_PATHMODE: {
		const char *colon = strrchr(v, ':');
		size_t plen = strlen(v);

		if (colon && (strcmp(colon, ":ro") == 0 || strcmp(colon, ":rw") == 0)) {
			p->rw = colon[2] == 'w';
			plen = (size_t)(colon - v);
		} else if (colon && strchr(colon, '/') == NULL) {
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": the mode after ':' is ro or rw", origin,
					      text);
		}
		p->value = strndup(v, plen);
		if (p->value == NULL)
			abort();
		if (!(strcmp(p->value, "*") == 0 || p->value[0] == '/' ||
		      (p->value[0] == '~' && (p->value[1] == '/' || p->value[1] == '\0'))))
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": api.open patterns are paths (/srv/data, "
					      "/srv/*, ~/x or *), then :ro (the default) or :rw",
					      origin, text);
		return 0;
	}
	case WARD_ARG_NONE:
	case WARD_ARG_PATH:
	case WARD_ARG_COUNT:
	case WARD_ARG_SIZE:
	case WARD_ARG_CPUS:
	default:
		p->value = ward_xstrdup(v);
		return 0;
	}
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
		p->name = ward_xstrdup(e->name);
		if (parse_value(e, op + 1, text, origin, p, err) < 0) {
			ward_trust_pattern_free(p);
			return -1;
		}
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
	if (p->name == NULL)
		p->name = ward_xstrdup(e->name);
	p->text = ward_xstrdup(text);
	return 0;
}

/* A requested path as the resolver enforces it: absolute and normalised,
 * or "~" and a normalised rest (expanded to the same HOME later); NULL for
 * what the resolver refuses (a relative path, "..").  Trust decisions are
 * taken on this, never on the text as written. */
static char *request_path(const char *v)
{
	cleanup_free char *rest = NULL;

	if (v[0] == '/')
		return ward_path_normalize(v);
	if (v[0] != '~' || (v[1] != '\0' && v[1] != '/'))
		return NULL;
	rest = ward_path_normalize(v[1] ? v + 1 : "/");
	if (rest == NULL)
		return NULL;
	return ward_xasprintf("~%s", strcmp(rest, "/") == 0 ? "" : rest);
}

/* Path globs: '*' does not cross '/', except that a trailing slash-star
 * stands for anything below the directory; the value is normalised first
 * and a value with ".." never matches. */
static bool path_match(const char *pat, const char *value)
{
	cleanup_free char *norm = NULL;
	size_t pl = strlen(pat);

	if (strcmp(pat, "*") == 0)
		return true;
	norm = request_path(value);
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

/* Broker names (ipc.send, service.connect, service.provide).  A request is
 * a name, or a prefix and a trailing '*', which the broker reads as every
 * name with that prefix (lib/broker/policy.c).  A pattern grants a name
 * when fnmatch says so; it grants a wildcard request only when it covers
 * the whole set the request names: "*", or a prefix-star (no other glob)
 * whose prefix is a prefix of the request's.  "db-?" or "db-[a-z]*" never
 * grant "db-*": the broker would read that as db-admin too. */
bool ward_trust_name_covers(const char *pat, const char *req)
{
	size_t rl = strlen(req), pl = strlen(pat), i;

	if (rl == 0)
		return false;
	for (i = 0; i < rl; i++)
		if ((is_glob_char(req[i]) || req[i] == '\\') && !(req[i] == '*' && i == rl - 1))
			return false;
	if (req[rl - 1] != '*')
		return fnmatch(pat, req, 0) == 0;
	if (strcmp(pat, "*") == 0)
		return true;
	if (pl == 0 || pat[pl - 1] != '*')
		return false;
	for (i = 0; i + 1 < pl; i++)
		if (is_glob_char(pat[i]) || pat[i] == '\\')
			return false;
	return pl <= rl && strncmp(pat, req, pl - 1) == 0;
}

/* Host name globs: each wildcard stays within one label ("db*" must not
 * match "db.attacker.example").  Dots become slashes so that fnmatch's
 * FNM_PATHNAME does the work. */
static bool host_name_match(const char *pat, const char *host)
{
	cleanup_free char *p = ward_xstrdup(pat), *h = ward_xstrdup(host);
	size_t i;

	for (i = 0; p[i]; i++)
		if (p[i] == '.')
			p[i] = '/';
	for (i = 0; h[i]; i++)
		if (h[i] == '.')
			h[i] = '/';
	return fnmatch(p, h, FNM_PATHNAME) == 0;
}

static bool connect_match(const struct ward_trust_pattern *p, const char *value)
{
	cleanup_free char *host = NULL;
	ward_error_t err = NULL;
	bool is_addr;
	uint32_t addr, mask;
	uint16_t port;

	/* The request as the resolver reads it; what it refuses, no pattern
	 * grants. */
	if (ward_connect_parse(value, "trust", &host, &is_addr, &addr, &port, &err) < 0) {
		ward_error_free(&err);
		return false;
	}
	if (port < p->port_lo || port > p->port_hi)
		return false;
	switch (p->host) {
	case WARD_HOSTPAT_ANY:
		return true;
	case WARD_HOSTPAT_CIDR:
		mask = p->prefix == 0 ? 0 : 0xffffffffu << (32 - p->prefix);
		return is_addr && (addr & mask) == p->net;
	case WARD_HOSTPAT_NAME:
		return !is_addr && host_name_match(p->value, host);
	default:
		return false;
	}
}

/* api.open=PATH[:ro|rw]: the path as a path, the mode apart; a read-write
 * request needs a pattern that says rw. */
static bool open_match(const struct ward_trust_pattern *p, const char *value)
{
	cleanup_free char *path = NULL;
	const char *colon = strrchr(value, ':');
	bool rw = false;

	if (colon && (strcmp(colon, ":ro") == 0 || strcmp(colon, ":rw") == 0)) {
		rw = colon[2] == 'w';
		path = strndup(value, (size_t)(colon - value));
		if (path == NULL)
			abort();
	} else if (colon && strchr(colon, '/') == NULL) {
		return false; /* the resolver refuses it */
	} else {
		path = ward_xstrdup(value);
	}
	if (rw && !p->rw)
		return false;
	return path_match(p->value, path);
}

static bool pattern_match(const struct ward_trust_pattern *p, const struct ward_request *r,
			  bool reach_dangerous)
{
	const struct ward_entitlement *e;
	int idx = ward_entitlement_lookup(r->name);
	uint64_t v;

	if (idx < 0)
		return false;
	e = &ward_entitlements[idx];
	if (p->name_glob)
		return (reach_dangerous || !(e->flags & WARD_ENT_DANGEROUS)) &&
		       ward_str_has_prefix(e->name, p->name);
	if (strcmp(p->name, e->name) != 0)
		return false;
	switch (p->op) {
	case WARD_PAT_NOVALUE:
		return r->value == NULL;
	case WARD_PAT_VALUE:
		if (r->value == NULL)
			return false;
		switch (e->arg) {
		case WARD_ARG_PATH:
			return path_match(p->value, r->value);
		case WARD_ARG_PATHMODE:
			return open_match(p, r->value);
		case WARD_ARG_HOSTPORT:
			return connect_match(p, r->value);
		case WARD_ARG_NAME:
			return ward_trust_name_covers(p->value, r->value);
		case WARD_ARG_PORT: {
			uint16_t port;

			return ward_parse_port(r->value, strlen(r->value), &port) == 0 &&
			       port >= p->port_lo && port <= p->port_hi;
		}
		case WARD_ARG_NONE:
		case WARD_ARG_COUNT:
		case WARD_ARG_SIZE:
		case WARD_ARG_CPUS:
		default:
			return fnmatch(p->value, r->value, 0) == 0;
		}
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

bool ward_trust_pattern_match(const struct ward_trust_pattern *p, const struct ward_request *r)
{
	return pattern_match(p, r, false);
}

/* ------------------------------------------------------------ the file */

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void key_free(struct ward_trust_key *k)
{
	size_t i;

	free(k->name);
	free_strv(k->roles, k->n_roles);
	free(k->revoked_on);
	for (i = 0; i < k->n_may; i++)
		ward_trust_pattern_free(&k->may[i]);
	free(k->may);
}

static void require_free(struct ward_trust_require *q)
{
	size_t i;

	free(q->text);
	free_strv(q->roles, q->n_roles);
	for (i = 0; i < q->n_pats; i++)
		ward_trust_pattern_free(&q->pats[i]);
	free(q->pats);
}

void ward_trust_free(struct ward_trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_keys; i++)
		key_free(&t->keys[i]);
	free(t->keys);
	for (i = 0; i < t->n_reqs; i++)
		require_free(&t->reqs[i]);
	free(t->reqs);
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

const struct ward_trust_key *ward_trust_find_pk(const struct ward_trust *t,
						const struct ward_pubkey *pk)
{
	size_t i;

	if (t == NULL)
		return NULL;
	for (i = 0; i < t->n_keys; i++)
		if (memcmp(&t->keys[i].pk, pk, sizeof(*pk)) == 0)
			return &t->keys[i];
	return NULL;
}

bool ward_trust_key_has_role(const struct ward_trust_key *k, const char *role)
{
	size_t i;

	for (i = 0; k && i < k->n_roles; i++)
		if (strcmp(k->roles[i], role) == 0)
			return true;
	return false;
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

/* "publisher,reviewer": role words, comma separated; a role may be listed
 * twice only where repeats mean something (allow_repeat: "by=reviewer,
 * reviewer" asks for two different reviewers). */
static int parse_roles(const char *list, bool allow_repeat, size_t max, const char *origin,
		       const char *what, char ***out, size_t *n, ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(list);
	char *save = NULL, *tok;
	size_t i;

	if (list[0] == '\0' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		return ward_error_set(err, EINVAL, "%s: %s=: role words separated by commas",
				      origin, what);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!role_ok(tok))
			return ward_error_set(err, EINVAL,
					      "%s: %s=%s: a role is 1 to 64 lower-case letters, "
					      "digits, - and _",
					      origin, what, tok);
		for (i = 0; !allow_repeat && i < *n; i++)
			if (strcmp((*out)[i], tok) == 0)
				return ward_error_set(err, EINVAL, "%s: %s=: role %s listed twice",
						      origin, what, tok);
		if (*n >= max)
			return ward_error_set(err, E2BIG, "%s: %s=: more than %zu roles", origin,
					      what, max);
		*out = ward_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = ward_xstrdup(tok);
	}
	return 0;
}

static int add_patterns(struct ward_trust_pattern **pats, size_t *n, const char *list,
			const char *origin, ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(list);
	char *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_PATTERNS)
			return ward_error_set(err, E2BIG, "%s: more than %u patterns", origin,
					      MAX_PATTERNS);
		*pats = ward_xrealloc(*pats, (*n + 1) * sizeof(**pats));
		if (ward_trust_pattern_parse(tok, origin, &(*pats)[*n], err) < 0)
			return -1;
		(*n)++;
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
			if (k->n_roles)
				return ward_error_set(err, EINVAL,
						      "%s: role= once (several roles: "
						      "role=publisher,reviewer)",
						      origin);
			if (parse_roles(eq + 1, false, 64, origin, "role", &k->roles, &k->n_roles,
					err) < 0)
				return -1;
		} else if (strcmp(tok, "may") == 0) {
			if (add_patterns(&k->may, &k->n_may, eq + 1, origin, err) < 0)
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

/* "require PATTERNS by=ROLE,ROLE" */
static int parse_require_line(struct ward_trust_require *q, char *line, const char *origin,
			      ward_error_t *err)
{
	char *save = NULL, *tok;

	tok = strtok_r(line, " \t", &save); /* "require" */
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (ward_str_has_prefix(tok, "by=")) {
			if (q->n_roles)
				return ward_error_set(err, EINVAL, "%s: by= once", origin);
			if (parse_roles(tok + 3, true, WARD_TRUST_MAX_REQUIRED_ROLES, origin, "by",
					&q->roles, &q->n_roles, err) < 0)
				return -1;
		} else if (q->text == NULL) {
			q->text = ward_xstrdup(tok);
			if (add_patterns(&q->pats, &q->n_pats, tok, origin, err) < 0)
				return -1;
		} else {
			return ward_error_set(err, EINVAL,
					      "%s: \"%s\": write require PATTERNS by=ROLE,ROLE "
					      "(patterns comma separated, without spaces)",
					      origin, tok);
		}
	}
	if (q->n_pats == 0 || q->n_roles == 0)
		return ward_error_set(err, EINVAL,
				      "%s: write require PATTERNS by=ROLE,ROLE (e.g. require "
				      "network.*,fs.write=* by=publisher,reviewer)",
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
		if (strncmp(line + i, "require", 7) == 0 &&
		    (line[i + 7] == ' ' || line[i + 7] == '\t')) {
			struct ward_trust_require *q;

			if (t->n_reqs >= MAX_KEYS) {
				ward_error_set(err, E2BIG, "%s: more than %u require lines", origin,
					       MAX_KEYS);
				goto fail;
			}
			t->reqs = ward_xrealloc(t->reqs, (t->n_reqs + 1) * sizeof(*t->reqs));
			q = &t->reqs[t->n_reqs++];
			memset(q, 0, sizeof(*q));
			q->line = lineno;
			if (parse_require_line(q, line + i, origin, err) < 0)
				goto fail;
			continue;
		}
		if (strncmp(line + i, "key", 3) != 0 ||
		    (line[i + 3] != ' ' && line[i + 3] != '\t')) {
			ward_error_set(err, EINVAL,
				       "%s: expected \"key <base64 public key> [may=...]\" or "
				       "\"require PATTERNS by=ROLES\"",
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
		/* One line per key.  Two different keys may carry the same id (the
		 * maker of a key chooses it): both stay, and a signature is
		 * checked with each. */
		for (i = 0; i + 1 < t->n_keys; i++) {
			if (memcmp(&t->keys[i].pk, &k->pk, sizeof(k->pk)) == 0) {
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
	case WARD_SIGNER_INVALID:
		return "INVALID: does not verify with the key of that id (ignored)";
	case WARD_SIGNER_MALFORMED:
		return "INVALID: not a minisign signature (ignored)";
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

static void describe_roles(char **buf, const struct ward_trust_key *k)
{
	size_t i;

	for (i = 0; i < k->n_roles; i++)
		sb_add(buf, "%s%s", i ? "," : " role ", k->roles[i]);
}

static void describe_key(char **buf, const struct ward_trust *t, const struct ward_trust_key *k)
{
	size_t i;

	sb_add(buf, "key %s", k->keyid);
	if (k->name)
		sb_add(buf, " \"%s\"", k->name);
	describe_roles(buf, k);
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

	if (s->status == WARD_SIGNER_MALFORMED) {
		sb_add(buf, "\n  %s: ignored: %s", s->file, s->problem ? s->problem : "unreadable");
		return;
	}
	sb_add(buf, "\n  %s: key %s: ", s->file, s->keyid);
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
	case WARD_SIGNER_INVALID:
		if (k)
			sb_add(buf, "does not verify with the key of %s:%u", t->path, k->line);
		else
			sb_add(buf, "does not verify with the key given");
		sb_add(buf,
		       ", ignored (the manifest or the signature was tampered with, or another "
		       "key carries that id: %s)",
		       s->problem ? s->problem : "bad signature");
		break;
	case WARD_SIGNER_TRUSTED:
	case WARD_SIGNER_MALFORMED:
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

		if (key == NULL || s->status == WARD_SIGNER_TRUSTED ||
		    s->status == WARD_SIGNER_MALFORMED)
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
				sb_add(buf, "%s does not verify with it", s->file);
			}
			break;
		}
	}
}

/* ------------------------------------------------------------ requirements */

static bool require_covers(const struct ward_trust_require *q, const struct ward_request *r)
{
	size_t i;

	/* A requirement is a restriction: its globs reach dangerous
	 * entitlements too. */
	for (i = 0; i < q->n_pats; i++)
		if (pattern_match(&q->pats[i], r, true))
			return true;
	return false;
}

/* The usable keys that may grant r, each once (two signature files by one
 * key are one signer). */
static size_t grantors(const struct ward_signer *signers, size_t n, const struct ward_request *r,
		       const struct ward_trust_key **out)
{
	size_t i, j, k, m = 0;

	for (i = 0; i < n; i++) {
		const struct ward_trust_key *key = signers[i].key;

		if (signers[i].status != WARD_SIGNER_TRUSTED)
			continue;
		for (j = 0; j < m && out[j] != key; j++)
			;
		if (j < m)
			continue;
		for (k = 0; k < key->n_may; k++) {
			if (ward_trust_pattern_match(&key->may[k], r)) {
				out[m++] = key;
				break;
			}
		}
	}
	return m;
}

/* Give each role of q a different key among cand (Kuhn's augmenting
 * paths; at most 16 roles and 64 signatures). */
static bool assign_role(const struct ward_trust_require *q, size_t role,
			const struct ward_trust_key **cand, size_t nc, int *owner, bool *seen)
{
	size_t c;

	for (c = 0; c < nc; c++) {
		if (seen[c] || !ward_trust_key_has_role(cand[c], q->roles[role]))
			continue;
		seen[c] = true;
		if (owner[c] < 0 || assign_role(q, (size_t)owner[c], cand, nc, owner, seen)) {
			owner[c] = (int)role;
			return true;
		}
	}
	return false;
}

static bool require_met(const struct ward_trust_require *q, const struct ward_signer *signers,
			size_t n, const struct ward_request *r)
{
	cleanup_free const struct ward_trust_key **cand = ward_xcalloc(n + 1, sizeof(*cand));
	cleanup_free int *owner = NULL;
	cleanup_free bool *seen = NULL;
	size_t nc = grantors(signers, n, r, cand), role, c;

	if (nc < q->n_roles)
		return false;
	owner = ward_xcalloc(nc, sizeof(*owner));
	seen = ward_xcalloc(nc, sizeof(*seen));
	for (c = 0; c < nc; c++)
		owner[c] = -1;
	for (role = 0; role < q->n_roles; role++) {
		memset(seen, 0, nc * sizeof(*seen));
		if (!assign_role(q, role, cand, nc, owner, seen))
			return false;
	}
	return true;
}

static void describe_unmet(char **buf, const struct ward_trust *t,
			   const struct ward_trust_require *q, const struct ward_signer *signers,
			   size_t n, const struct ward_request *r)
{
	cleanup_free const struct ward_trust_key **cand = ward_xcalloc(n + 1, sizeof(*cand));
	size_t nc = grantors(signers, n, r, cand), i, c;

	sb_add(buf, "\n    the trust policy requires it to be granted by ");
	for (i = 0; i < q->n_roles; i++)
		sb_add(buf, "%s%s",
		       i == 0		     ? ""
		       : i + 1 == q->n_roles ? " and "
					     : ", ",
		       q->roles[i]);
	sb_add(buf, " (%s:%u: require %s), each by a different trusted key; ", t->path, q->line,
	       q->text);
	if (nc == 0) {
		sb_add(buf, "no trusted signer may grant it");
		return;
	}
	sb_add(buf, "the signers that may grant it are:");
	for (c = 0; c < nc; c++) {
		sb_add(buf, "\n      ");
		describe_key(buf, t, cand[c]);
		if (cand[c]->n_roles == 0)
			sb_add(buf, " (no role)");
	}
}

/* The request as text for a message: its value comes from the bundle. */
static char *request_text(const struct ward_request *r)
{
	cleanup_free char *v = r->value ? ward_escape(r->value, 512) : NULL;
	cleanup_free char *name = ward_escape(r->name, 128);

	return v ? ward_xasprintf("%s=%s", name, v) : ward_xstrdup(name);
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
		/* Grants of several signers add up; a require line of the
		 * operator's asks for more: signers in each of its roles. */
		for (j = 0; d->granted && t && j < t->n_reqs; j++) {
			if (require_covers(&t->reqs[j], r) &&
			    !require_met(&t->reqs[j], signers, n, r)) {
				d->granted = false;
				d->unmet = &t->reqs[j];
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
		if (d->unmet) {
			sb_add(&msg, "\n  %s: %s%s lacks the signers the policy requires",
			       d->req->origin, what, dangerous ? " (dangerous)" : "");
			describe_unmet(&msg, t, d->unmet, signers, n, d->req);
			continue;
		}
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
		if (!rep->items[i].granted && !rep->items[i].unmet) {
			cleanup_free char *what = request_text(rep->items[i].req);

			sb_add(&msg,
			       "\n  (to trust it: ward trust add --key SIGNER.pub --may '%s'; "
			       "or, as the operator, run with --allow %s)",
			       what, what);
			break;
		}
	}
	for (i = 0; i < rep->n; i++) {
		if (rep->items[i].unmet) {
			sb_add(&msg,
			       "\n  (a key holding each required role must sign the bundle: "
			       "ward bundle sign --key KEY BUNDLE; the operator gives a key "
			       "its roles: ward trust add --key KEY.pub --role ROLE --may ...)");
			break;
		}
	}
	return ward_error_set(err, EPERM, "%s", msg);
}
