/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: what a verifier reads from the host it attests (the first byte
 * picks which): the measurement log (parse, replay, the fields verify
 * reads), a software-rooted quote's text and signature, and the escaping
 * of event values (unescape(escape(x)) == x, and an escaped value holds no
 * space, newline or byte outside '!'..'~'). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A real minisign public key, so that software quotes are checked to the end. */
static const char pub[] = "untrusted comment: fuzz\n"
			  "RWT5D7/jDjdfkT+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+\n";

static void log_case(const char *text, size_t size)
{
	struct ward_attest_log log;
	ward_error_t err = NULL;
	uint8_t v[WARD_ATTEST_DIGEST];
	size_t i;

	if (ward_attest_log_parse(text, size, "fuzz", &log, &err) < 0) {
		ward_error_free(&err);
		return;
	}
	if (log.good_end + log.torn != size)
		abort();
	ward_attest_replay(&log, log.n, v);
	if (memcmp(v, log.replay, sizeof(v)) != 0)
		abort();
	for (i = 0; i < log.n; i++) {
		const struct ward_attest_event *e = &log.ev[i];
		size_t pos = 0;
		char *raw;

		if (e->end > size || e->body + e->body_len != text + e->end)
			abort();
		while ((raw = ward_attest_field_raw(e->body, e->body_len, "entitlement", &pos)))
			free(raw);
		free(ward_attest_field(e->body, e->body_len, "env", NULL));
		free(ward_attest_field(e->body, e->body_len, "manifest", NULL));
	}
	ward_attest_find_env(&log, NULL);
	ward_attest_find_env(&log, "app");
	ward_attest_log_free(&log);
}

static void quote_case(const char *text, size_t size)
{
	/* "msg\0sig": a software quote's two files. */
	const char *nul = memchr(text, '\0', size);
	struct ward_soft_quote q;
	ward_error_t err = NULL;

	if (nul == NULL)
		return;
	if (ward_soft_check(pub, strlen(pub), text, (size_t)(nul - text), nul + 1,
			    size - (size_t)(nul - text) - 1, &q, &err) == 0 &&
	    q.qual_len > sizeof(q.qual))
		abort();
	ward_error_free(&err);
}

static void escape_case(const char *text, size_t size)
{
	char *e = ward_attest_escape(text, size);
	size_t n = strlen(e), i;
	char *back;

	for (i = 0; i < n; i++)
		if ((unsigned char)e[i] <= ' ' || (unsigned char)e[i] > '~')
			abort();
	back = ward_attest_unescape(e, n);
	if (memcmp(back, text, size) != 0)
		abort();
	free(back);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* NUL-terminated copies: the parsers get lengths, but a missing
	 * terminator must not hide a read past the end either. */
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		log_case(text, size - 1);
		break;
	case 1:
		quote_case(text, size - 1);
		break;
	default:
		escape_case(text, size - 1);
		break;
	}
	free(text);
	return 0;
}
