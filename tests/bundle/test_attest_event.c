/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Measured launch: the canonical event text and the log's records, replay
 * and binding (lib/attest/event.c, log.c; docs/attestation.md). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attest/attest.h"

static char *body_of(struct ward_attest_launch *l, size_t *len)
{
	char *b = ward_attest_launch_body(l, len);

	assert_non_null(b);
	assert_int_equal(strlen(b), *len);
	return b;
}

static void digest_of(struct ward_attest_launch *l, uint8_t d[32])
{
	size_t len;
	char *b = body_of(l, &len);

	ward_attest_sha256(b, len, d);
	free(b);
}

static size_t count_prefix(const char *b, const char *key)
{
	size_t n = 0, k = strlen(key);
	const char *p = b;

	while (p && *p) {
		if (strncmp(p, key, k) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* Two launches that differ in how their fields split never share bytes. */
static void test_fields_never_collide(void **state)
{
	char *joined[] = {"/bin/sh", "a b", NULL};
	char *split[] = {"/bin/sh", "a", "b", NULL};
	char *inject[] = {"/bin/sh", "x\nentitlement network.host by=operator", NULL};
	char *lookalike[] = {"/bin/sh", "x\\x0aentitlement\\x20network.host\\x20by=operator", NULL};
	char *envlike[] = {"/bin/sh", "A=1", NULL};
	char *env1[] = {"A=1"};
	char *plain[] = {"/bin/sh", NULL};
	struct ward_attest_launch l = {.env = "app", .cwd = "/"};
	uint8_t d[6][32];
	size_t len, i, j;
	char *b;

	(void)state;
	l.argv = joined;
	digest_of(&l, d[0]);
	l.argv = split;
	digest_of(&l, d[1]);
	l.argv = inject;
	digest_of(&l, d[2]);
	b = body_of(&l, &len);
	assert_int_equal(count_prefix(b, "entitlement "), 0);
	assert_non_null(strstr(b, "\narg x\\x0aentitlement\\x20network.host\\x20by=operator\n"));
	free(b);
	l.argv = lookalike;
	digest_of(&l, d[3]);
	l.argv = envlike;
	digest_of(&l, d[4]);
	l.argv = plain;
	l.envp = env1;
	l.n_envp = 1;
	digest_of(&l, d[5]);
	for (i = 0; i < 6; i++)
		for (j = i + 1; j < 6; j++)
			assert_memory_not_equal(d[i], d[j], 32);
}

/* A signer's name cannot write a roles= of its own; names and roles that
 * differ only in where a separator falls differ. */
static void test_signers_and_grants_escaped(void **state)
{
	struct ward_attest_signer s1 = {.keyid = "0123456789ABCDEF",
					.name = "alice roles=admin",
					.roles = "",
					.signed_as = "publisher"};
	struct ward_attest_signer s2 = {.keyid = "0123456789ABCDEF",
					.name = "alice",
					.roles = "admin",
					.signed_as = "publisher"};
	struct ward_attest_grant g1[] = {{(char *)"fs.read=/a by=operator", "default"}};
	struct ward_attest_grant g2[] = {{(char *)"fs.read=/a", "operator"}};
	struct ward_attest_launch l = {.bundle = true, .bundle_name = "app", .decision = "trusted"};
	uint8_t a[32], b[32];
	size_t len;
	char *t;

	(void)state;
	l.signers = &s1;
	l.n_signers = 1;
	t = body_of(&l, &len);
	assert_non_null(strstr(t, "\nsigner 0123456789ABCDEF name=alice\\x20roles=admin roles= "));
	free(t);
	digest_of(&l, a);
	l.signers = &s2;
	digest_of(&l, b);
	assert_memory_not_equal(a, b, 32);
	l.signers = NULL;
	l.n_signers = 0;
	l.grants = g1;
	l.n_grants = 1;
	digest_of(&l, a);
	l.grants = g2;
	digest_of(&l, b);
	assert_memory_not_equal(a, b, 32);
}

/* The same launch, its unordered lists given in another order: same bytes. */
static void test_same_launch_same_bytes(void **state)
{
	struct ward_attest_signer s[2] = {
		{.keyid = "AAAAAAAAAAAAAAAA", .name = "a", .roles = "", .signed_as = ""},
		{.keyid = "BBBBBBBBBBBBBBBB", .name = "b", .roles = "reviewer", .signed_as = ""},
	};
	struct ward_attest_signer r[2] = {s[1], s[0]};
	struct ward_attest_grant g[2] = {{(char *)"process.limit=64", "default"},
					 {(char *)"fs.read=/x", "operator"}};
	struct ward_attest_grant h[2] = {g[1], g[0]};
	char *o1[] = {(char *)"hostname x", (char *)"best-effort"};
	char *o2[] = {(char *)"best-effort", (char *)"hostname x"};
	char *argv[] = {"/bin/true", NULL};
	struct ward_attest_launch l = {.env = "app", .bundle = true, .argv = argv};
	char *x, *y;
	size_t lx, ly;

	(void)state;
	l.signers = s;
	l.n_signers = 2;
	l.grants = g;
	l.n_grants = 2;
	l.options = o1;
	l.n_options = 2;
	x = body_of(&l, &lx);
	l.signers = r;
	l.grants = h;
	l.options = o2;
	y = body_of(&l, &ly);
	assert_int_equal(lx, ly);
	assert_memory_equal(x, y, lx);
	free(x);
	free(y);
}

/* Records, replay, torn tails and edits (the parser ward and verifiers use). */
static void test_log_records(void **state)
{
	uint8_t d0[32], d1[32], want[32] = {0}, bound[32], other[32];
	size_t hl, ll, n0, n1;
	char *hb = ward_attest_header_body("tpm", 23, "boot", &hl);
	char *lb = strdup("ward-launch 1\nenv app\n");
	char *r0 = ward_attest_record(0, WARD_EVENT_LOG, hb, hl, d0, &n0);
	char *r1 = ward_attest_record(1, WARD_EVENT_LAUNCH, lb, strlen(lb), d1, &n1);
	char *all = malloc(n0 + n1 + 1);
	struct ward_attest_log log;
	ward_error_t err = NULL;

	(void)state;
	(void)ll;
	memcpy(all, r0, n0);
	memcpy(all + n0, r1, n1);
	assert_int_equal(ward_attest_log_parse(all, n0 + n1, "log", &log, &err), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.pcr, 23);
	ward_attest_extend(want, d0);
	ward_attest_extend(want, d1);
	assert_memory_equal(log.replay, want, 32);
	ward_attest_log_free(&log);
	/* a torn tail: not an error, not replayed */
	assert_int_equal(ward_attest_log_parse(all, n0 + n1 - 3, "log", &log, &err), 0);
	assert_int_equal(log.n, 1);
	assert_int_not_equal(log.torn, 0);
	ward_attest_log_free(&log);
	/* an edited byte */
	all[n0 + n1 - 3] = 'X';
	assert_int_equal(ward_attest_log_parse(all, n0 + n1, "log", &log, &err), -1);
	assert_non_null(strstr(err->msg, "does not match its digest"));
	ward_error_free(&err);
	/* events out of order */
	assert_int_equal(ward_attest_log_parse(r1, n1, "log", &log, &err), -1);
	assert_non_null(strstr(err->msg, "where event 0 was expected"));
	ward_error_free(&err);
	/* the binding depends on nonce, event number and digest */
	ward_attest_bind((const uint8_t *)"noncenonce", 10, 1, d1, bound);
	ward_attest_bind((const uint8_t *)"noncenonce", 10, 2, d1, other);
	assert_memory_not_equal(bound, other, 32);
	ward_attest_bind((const uint8_t *)"noncenonce", 10, 1, d0, other);
	assert_memory_not_equal(bound, other, 32);
	free(hb);
	free(lb);
	free(r0);
	free(r1);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_never_collide),
		cmocka_unit_test(test_signers_and_grants_escaped),
		cmocka_unit_test(test_same_launch_same_bytes),
		cmocka_unit_test(test_log_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
