/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entitlement syntax: NAME or NAME=VALUE.  A manifest holds one per line;
 * '#' at the start of a line or after white space starts a comment.  The
 * parser only splits and checks the shape; the resolver gives meaning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../entitlements.h"
#include "../util.h"

#define MAX_MANIFEST_BYTES (1u << 20)
#define MAX_LINE_BYTES	   4096u
#define MAX_ENTITLEMENTS   4096u

void ward_request_list_free(struct ward_request_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].value);
		free(l->items[i].origin);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * Is [s, s+len) plain text: printable UTF-8 with no control character (C0,
 * DEL, C1), no bidirectional override or isolate, no invalid byte?  Exactly
 * what ward_escape() leaves as it is (but for '\\', which it doubles).  A
 * manifest is read by people before it grants anything: what they see must be
 * what is granted, so text that displays as something else (a right-to-left
 * override, a carriage return) is refused rather than granted.  It also keeps
 * the text that error messages quote down the line (the resolver's) to one
 * plain line.
 */
static bool plain_text(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *bs = memchr(s + i, '\\', len - i);
		size_t n = bs ? (size_t)(bs - (s + i)) : len - i;
		cleanup_free char *esc = ward_escape_mem(s + i, n, 0);

		if (strlen(esc) != n || memcmp(esc, s + i, n) != 0)
			return false;
		i += n + 1;
	}
	return true;
}

/* Parse one entitlement from [s, s+len).  s has no leading/trailing blanks.
 * Every piece of the text quoted in a message goes through ward_escape():
 * a manifest may come from someone else (a bundle, a space file's owner). */
static int parse_one(struct ward_request_list *l, const char *s, size_t len, const char *origin,
		     ward_error_t *err)
{
	const char *eq = memchr(s, '=', len);
	size_t nlen = eq ? (size_t)(eq - s) : len;
	struct ward_request *r;
	size_t i;

	if (nlen == 0)
		return ward_error_set(err, EINVAL,
				      "%s: missing entitlement name before '=' (write NAME=VALUE)",
				      origin);
	for (i = 0; i < nlen; i++) {
		if (!name_char_ok(s[i])) {
			cleanup_free char *all = ward_escape_mem(s, len, 200);
			cleanup_free char *name = ward_escape_mem(s, nlen, 200);

			if (s[i] == ' ' || s[i] == '\t')
				return ward_error_set(
					err, EINVAL,
					"%s: white space in \"%s\": write one "
					"entitlement per line, as NAME=VALUE without spaces",
					origin, all);
			if (s[i] >= 'A' && s[i] <= 'Z')
				return ward_error_set(
					err, EINVAL, "%s: entitlement names are lower case: \"%s\"",
					origin, name);
			return ward_error_set(
				err, EINVAL,
				"%s: invalid character '%c' in entitlement name \"%s\"", origin,
				s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', name);
		}
	}
	if (eq && (size_t)(eq - s) + 1 == len)
		return ward_error_set(err, EINVAL, "%s: \"%.*s\" has '=' but no value", origin,
				      (int)nlen, s);
	if (eq && memchr(eq + 1, '\0', len - nlen - 1))
		return ward_error_set(err, EINVAL, "%s: NUL byte in value", origin);
	if (eq && !plain_text(eq + 1, len - nlen - 1)) {
		cleanup_free char *value = ward_escape_mem(eq + 1, len - nlen - 1, 200);

		return ward_error_set(err, EINVAL,
				      "%s: the value of %.*s holds a control character, a "
				      "bidirectional override or invalid UTF-8 (\"%s\"); an "
				      "entitlement is plain text, as it is shown",
				      origin, (int)nlen, s, value);
	}
	if (l->n >= MAX_ENTITLEMENTS)
		return ward_error_set(err, E2BIG, "%s: more than %u entitlements", origin,
				      MAX_ENTITLEMENTS);

	l->items = ward_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	r = &l->items[l->n++];
	r->name = strndup(s, nlen);
	r->value = eq ? strndup(eq + 1, len - nlen - 1) : NULL;
	r->origin = ward_xstrdup(origin);
	if (r->name == NULL || (eq && r->value == NULL))
		abort();
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int ward_parse_allow(struct ward_request_list *l, const char *text, const char *origin,
		     ward_error_t *err)
{
	size_t len;

	if (text == NULL)
		return ward_error_set(err, EINVAL, "%s: missing entitlement", origin);
	while (is_blank(*text))
		text++;
	len = strlen(text);
	while (len > 0 && is_blank(text[len - 1]))
		len--;
	if (len == 0)
		return ward_error_set(err, EINVAL,
				      "%s: empty entitlement (write --allow NAME[=VALUE])", origin);
	if (memchr(text, '\n', len))
		return ward_error_set(err, EINVAL, "%s: newline inside an entitlement", origin);
	return parse_one(l, text, len, origin, err);
}

int ward_parse_manifest(struct ward_request_list *l, const char *text, size_t len,
			const char *filename, ward_error_t *err)
{
	size_t pos = 0;
	unsigned lineno = 0;

	if (len > MAX_MANIFEST_BYTES)
		return ward_error_set(err, EFBIG, "%s: manifest is larger than %u bytes", filename,
				      MAX_MANIFEST_BYTES);
	/* A UTF-8 byte order mark (some editors write one) is not text. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		char origin[512];
		size_t a = 0, b, i;

		lineno++;
		pos += llen + (nl ? 1 : 0);
		snprintf(origin, sizeof(origin), "%s:%u", filename, lineno);
		if (llen > MAX_LINE_BYTES)
			return ward_error_set(err, E2BIG, "%s: line longer than %u bytes", origin,
					      MAX_LINE_BYTES);
		if (memchr(line, '\0', llen))
			return ward_error_set(err, EINVAL, "%s: NUL byte (is this a text file?)",
					      origin);
		/* Strip a comment: '#' at the start or after a blank. */
		b = llen;
		for (i = 0; i < llen; i++) {
			if (line[i] == '#' && (i == 0 || is_blank(line[i - 1]))) {
				b = i;
				break;
			}
		}
		while (a < b && is_blank(line[a]))
			a++;
		while (b > a && is_blank(line[b - 1]))
			b--;
		if (a == b)
			continue;
		if (line[a] == '-' && b - a > 1 && line[a + 1] == '-') {
			cleanup_free char *flag = ward_escape_mem(line + a, b - a, 200);

			return ward_error_set(
				err, EINVAL,
				"%s: \"%s\" looks like a command-line flag; a "
				"manifest holds bare entitlements such as fs.read=/srv",
				origin, flag);
		}
		if (parse_one(l, line + a, b - a, origin, err) < 0)
			return -1;
	}
	return 0;
}

int ward_parse_manifest_file(struct ward_request_list *l, const char *path, ward_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	int r;

	r = ward_read_file(path, &text, &len);
	if (r < 0) {
		errno = -r;
		if (r == -ENOENT)
			return ward_error_set(err, ENOENT,
					      "manifest %s does not exist (check the path given to "
					      "--manifest)",
					      path);
		return ward_error_sys(err, "cannot read manifest %s", path);
	}
	return ward_parse_manifest(l, text, len, path, err);
}
