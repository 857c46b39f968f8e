/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measurement log's records, and its replay (docs/attestation.md).
 *
 *   event SEQ TYPE sha256:HEX LEN\n
 *   BODY (LEN bytes, ending in a newline)
 *
 * HEX is the SHA-256 of BODY: what the PCR is extended with.  SEQ counts
 * from 0 (the header, TYPE "log"); launches are TYPE "launch".  The log is
 * only ever appended to, so a crash in the middle of an append leaves an
 * incomplete last record: a torn tail, which was never extended into the
 * PCR (the extend comes after the append) and which replay ignores and the
 * next append cuts off.  Anything else that does not parse is an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"
#include "attest.h"

#define RECORD_HEAD_MAX 128u

static const char *const type_names[] = {
	[WARD_EVENT_LOG] = "log",
	[WARD_EVENT_LAUNCH] = "launch",
};

void ward_attest_sha256(const void *data, size_t len, uint8_t out[WARD_ATTEST_DIGEST])
{
	crypto_hash_sha256(out, data, len);
}

void ward_attest_hex(const uint8_t *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t ward_attest_unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return (ssize_t)(n / 2);
}

void ward_attest_extend(uint8_t pcr[WARD_ATTEST_DIGEST], const uint8_t digest[WARD_ATTEST_DIGEST])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, pcr, WARD_ATTEST_DIGEST);
	crypto_hash_sha256_update(&st, digest, WARD_ATTEST_DIGEST);
	crypto_hash_sha256_final(&st, pcr);
}

void ward_attest_bind(const uint8_t *nonce, size_t n, uint64_t seq,
		      const uint8_t digest[WARD_ATTEST_DIGEST], uint8_t out[WARD_ATTEST_DIGEST])
{
	static const char tag[] = "ward-attest-env 1";
	crypto_hash_sha256_state st;
	uint8_t be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(seq >> (56 - 8 * i));
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)tag, sizeof(tag));
	crypto_hash_sha256_update(&st, nonce, n);
	crypto_hash_sha256_update(&st, be, sizeof(be));
	crypto_hash_sha256_update(&st, digest, WARD_ATTEST_DIGEST);
	crypto_hash_sha256_final(&st, out);
}

char *ward_attest_record(uint64_t seq, enum ward_attest_type type, const char *body, size_t len,
			 uint8_t digest[WARD_ATTEST_DIGEST], size_t *out_len)
{
	char hex[WARD_ATTEST_HEX], head[RECORD_HEAD_MAX];
	char *out;
	int n;

	ward_attest_sha256(body, len, digest);
	ward_attest_hex(digest, WARD_ATTEST_DIGEST, hex);
	n = snprintf(head, sizeof(head), "event %llu %s sha256:%s %zu\n", (unsigned long long)seq,
		     type_names[type], hex, len);
	out = ward_xmalloc((size_t)n + len);
	memcpy(out, head, (size_t)n);
	memcpy(out + n, body, len);
	*out_len = (size_t)n + len;
	return out;
}

void ward_attest_log_free(struct ward_attest_log *log)
{
	free(log->ev);
	memset(log, 0, sizeof(*log));
}

void ward_attest_replay(const struct ward_attest_log *log, size_t n,
			uint8_t out[WARD_ATTEST_DIGEST])
{
	size_t i;

	memset(out, 0, WARD_ATTEST_DIGEST);
	for (i = 0; i < n && i < log->n; i++)
		ward_attest_extend(out, log->ev[i].digest);
}

ssize_t ward_attest_find_env(const struct ward_attest_log *log, const char *env)
{
	size_t i = log->n;

	while (i-- > 0) {
		const struct ward_attest_event *e = &log->ev[i];
		cleanup_free char *name = NULL;

		if (e->type != WARD_EVENT_LAUNCH)
			continue;
		if (env == NULL)
			return (ssize_t)i;
		name = ward_attest_field(e->body, e->body_len, "env", NULL);
		if (name && strcmp(name, env) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* One record head: "event SEQ TYPE sha256:HEX LEN".  0, or -1. */
static int parse_head(const char *s, size_t n, uint64_t *seq, enum ward_attest_type *type,
		      uint8_t digest[WARD_ATTEST_DIGEST], size_t *len)
{
	char buf[RECORD_HEAD_MAX], tname[16], hex[80];
	unsigned long long sq, ln;
	int used = 0;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sscanf(buf, "event %llu %15s sha256:%79s %llu%n", &sq, tname, hex, &ln, &used) != 4 ||
	    (size_t)used != n)
		return -1;
	if (strcmp(tname, "log") == 0)
		*type = WARD_EVENT_LOG;
	else if (strcmp(tname, "launch") == 0)
		*type = WARD_EVENT_LAUNCH;
	else
		return -1;
	if (strlen(hex) != 2 * WARD_ATTEST_DIGEST ||
	    ward_attest_unhex(hex, digest, WARD_ATTEST_DIGEST) != WARD_ATTEST_DIGEST)
		return -1;
	/* The canonical form only: no leading zeros, no "+", lower-case hex. */
	{
		char again[RECORD_HEAD_MAX], h2[WARD_ATTEST_HEX];

		ward_attest_hex(digest, WARD_ATTEST_DIGEST, h2);
		snprintf(again, sizeof(again), "event %llu %s sha256:%s %llu", sq, tname, h2, ln);
		if (strcmp(again, buf) != 0)
			return -1;
	}
	if (ln == 0 || ln > WARD_ATTEST_EVENT_MAX)
		return -1;
	*seq = sq;
	*len = (size_t)ln;
	return 0;
}

int ward_attest_log_parse(const char *data, size_t len, const char *origin,
			  struct ward_attest_log *log, ward_error_t *err)
{
	size_t off = 0;

	memset(log, 0, sizeof(*log));
	while (off < len) {
		const char *nl =
			memchr(data + off, '\n',
			       len - off < RECORD_HEAD_MAX + 1 ? len - off : RECORD_HEAD_MAX + 1);
		struct ward_attest_event e = {0};
		uint8_t check[WARD_ATTEST_DIGEST];

		if (nl == NULL) {
			if (len - off <= RECORD_HEAD_MAX)
				break; /* a torn head */
			goto bad;
		}
		if (parse_head(data + off, (size_t)(nl - (data + off)), &e.seq, &e.type, e.digest,
			       &e.body_len) < 0)
			goto bad;
		e.offset = off;
		e.body = nl + 1;
		if ((size_t)(data + len - e.body) < e.body_len)
			break; /* a torn body */
		e.end = (size_t)(e.body - data) + e.body_len;
		if (e.seq != log->n) {
			ward_attest_log_free(log);
			return ward_error_set(err, EBADMSG,
					      "%s: offset %zu: event %llu where event %zu was "
					      "expected (events removed, reordered or inserted)",
					      origin, off, (unsigned long long)e.seq,
					      (size_t)(log ? log->n : 0));
		}
		/* The canonical writer escapes every value: a body holds
		 * printable ASCII and newlines only, so it can be printed as
		 * it is, and nothing else is ward's. */
		{
			size_t i;

			for (i = 0; i < e.body_len; i++) {
				unsigned char ch = (unsigned char)e.body[i];

				if ((ch < 0x20 || ch > 0x7e) && ch != '\n') {
					ward_attest_log_free(log);
					return ward_error_set(err, EBADMSG,
							      "%s: event %llu holds a byte ward "
							      "never writes (0x%02x at %zu): not "
							      "a canonical event",
							      origin, (unsigned long long)e.seq, ch,
							      i);
				}
			}
		}
		if (e.body[e.body_len - 1] != '\n') {
			ward_attest_log_free(log);
			return ward_error_set(err, EBADMSG,
					      "%s: event %llu does not end with a newline (edited)",
					      origin, (unsigned long long)e.seq);
		}
		ward_attest_sha256(e.body, e.body_len, check);
		if (sodium_memcmp(check, e.digest, WARD_ATTEST_DIGEST) != 0) {
			ward_attest_log_free(log);
			return ward_error_set(err, EBADMSG,
					      "%s: event %llu: its text does not match its digest "
					      "(the log was edited)",
					      origin, (unsigned long long)e.seq);
		}
		if ((e.seq == 0) != (e.type == WARD_EVENT_LOG)) {
			ward_attest_log_free(log);
			return ward_error_set(err, EBADMSG,
					      "%s: event %llu: the header must be event 0 and only "
					      "it",
					      origin, (unsigned long long)e.seq);
		}
		if (e.type == WARD_EVENT_LOG) {
			cleanup_free char *mode =
				ward_attest_field(e.body, e.body_len, "mode", NULL);
			cleanup_free char *pcr = ward_attest_field(e.body, e.body_len, "pcr", NULL);
			cleanup_free char *boot =
				ward_attest_field(e.body, e.body_len, "boot", NULL);
			uint64_t v;

			if (mode == NULL || pcr == NULL || ward_parse_u64(pcr, &v) < 0 || v > 23 ||
			    (strcmp(mode, "tpm") != 0 && strcmp(mode, "software") != 0)) {
				ward_attest_log_free(log);
				return ward_error_set(
					err, EBADMSG,
					"%s: the header (event 0) names no mode or PCR", origin);
			}
			snprintf(log->mode, sizeof(log->mode), "%s", mode);
			snprintf(log->boot, sizeof(log->boot), "%s", boot ? boot : "");
			log->pcr = (unsigned)v;
		}
		log->ev = ward_xrealloc(log->ev, (log->n + 1) * sizeof(*log->ev));
		log->ev[log->n++] = e;
		ward_attest_extend(log->replay, e.digest);
		off = e.end;
	}
	log->good_end = off;
	log->torn = len - off;
	return 0;
bad:
	ward_attest_log_free(log);
	return ward_error_set(err, EBADMSG,
			      "%s: offset %zu: not an event record (the log was edited or is not "
			      "ward's)",
			      origin, off);
}
