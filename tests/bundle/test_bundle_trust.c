/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trust policy: patterns, the file, and the decision (pure code). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle/bundle.h"

#define PUB1 "RWT5D7/jDjdfkT+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+"
#define ID1  "915F370EE3BF0FF9"

static void expect_err(ward_error_t *err, const char *want)
{
	assert_non_null(*err);
	if (strstr((*err)->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", (*err)->msg, want);
	ward_error_free(err);
}

static bool match(const char *pattern, const char *name, const char *value)
{
	struct ward_trust_pattern p;
	struct ward_request r = {.name = (char *)name, .value = (char *)value, .origin = "m:1"};
	ward_error_t err = NULL;
	bool m;

	if (ward_trust_pattern_parse(pattern, "t", &p, &err) < 0)
		fail_msg("pattern %s: %s", pattern, err->msg);
	m = ward_trust_pattern_match(&p, &r);
	ward_trust_pattern_free(&p);
	return m;
}

static void test_patterns(void **state)
{
	(void)state;
	assert_true(match("network.loopback", "network.loopback", NULL));
	assert_false(match("network.loopback", "network.none", NULL));
	assert_true(match("network.*", "network.loopback", NULL));
	assert_true(match("network.*", "network.connect", "db:5432"));
	assert_false(match("network.*", "fs.read", "/x"));
	assert_true(match("*", "fs.write", "/srv"));
	/* Dangerous entitlements: never through a glob over names. */
	assert_false(match("*", "network.host", NULL));
	assert_false(match("network.*", "network.host", NULL));
	assert_false(match("process.*", "process.setuid", NULL));
	assert_true(match("network.host", "network.host", NULL));
	assert_true(match("host.devices=/dev/*", "host.devices", "/dev/kvm"));
	/* Values. */
	assert_true(match("fs.read=*", "fs.read", "/anything/at/all"));
	assert_true(match("fs.read=/srv/data", "fs.read", "/srv/data"));
	assert_true(match("fs.read=/srv/data", "fs.read", "/srv//data/"));
	assert_false(match("fs.read=/srv/data", "fs.read", "/srv/data2"));
	assert_true(match("fs.read=/srv/*", "fs.read", "/srv/a"));
	assert_true(match("fs.read=/srv/*", "fs.read", "/srv/a/b/c"));
	assert_false(match("fs.read=/srv/*", "fs.read", "/srv"));
	assert_false(match("fs.read=/srv/*", "fs.read", "/srvx/a"));
	assert_false(match("fs.read=/srv/*", "fs.read", "/srv/../etc"));
	assert_false(match("fs.read=/srv/*", "fs.read", "/srv/a/../../etc"));
	assert_true(match("fs.read=/home/*/photos", "fs.read", "/home/ann/photos"));
	assert_false(match("fs.read=/home/*/photos", "fs.read", "/home/ann/x/photos"));
	assert_true(match("fs.read=/home/*/photos/*", "fs.read", "/home/ann/photos/2024/a"));
	assert_false(match("fs.write=*", "fs.read", "/x"));
	assert_true(match("ipc.send=log*", "ipc.send", "logger"));
	/* Bounds. */
	assert_true(match("process.limit<=256", "process.limit", "64"));
	assert_true(match("process.limit<=256", "process.limit", "256"));
	assert_false(match("process.limit<=256", "process.limit", "257"));
	assert_false(match("process.limit<=256", "process.limit", "lots"));
	assert_true(match("memory.limit<=1G", "memory.limit", "512M"));
	assert_false(match("memory.limit<=1G", "memory.limit", "2G"));
	assert_true(match("cpu.limit<=1.5", "cpu.limit", "0.5"));
	assert_false(match("cpu.limit<=1.5", "cpu.limit", "1.501"));
	assert_true(match("network.listen>=1024", "network.listen", "8080"));
	assert_false(match("network.listen>=1024", "network.listen", "80"));
	/* A pattern without value does not grant a value, and unknown names
	 * are never granted. */
	assert_false(match("network.loopback", "network.loopback", "x"));
	assert_false(match("*", "netwrok.none", NULL));
}

static void pattern_error(const char *text, const char *want)
{
	struct ward_trust_pattern p;
	ward_error_t err = NULL;

	assert_int_equal(ward_trust_pattern_parse(text, "trust:3", &p, &err), -1);
	expect_err(&err, want);
}

static void test_pattern_errors(void **state)
{
	(void)state;
	pattern_error("", "empty");
	pattern_error("netwrok.none", "did you mean \"network.none\"");
	pattern_error("fs.read", "takes a value");
	pattern_error("network.loopback=1", "takes no value");
	pattern_error("fs.read=", "no value");
	pattern_error("fs.read<=5", "no bound");
	pattern_error("process.limit<=lots", "the bound is not");
	pattern_error("process.limit<5", "bounds are written");
	pattern_error("net*", "\"*\" or \"DOMAIN.*\"");
	pattern_error("network.*=x", "takes no value");
	pattern_error("nothing.*", "matches no entitlement");
}

static void trust_error(const char *text, const char *want)
{
	struct ward_trust t;
	ward_error_t err = NULL;

	assert_int_equal(ward_trust_parse(text, strlen(text), "/etc/ward/trust", &t, &err), -1);
	expect_err(&err, want);
}

static void test_trust_file(void **state)
{
	static const char text[] =
		"# policy\n"
		"\n"
		"key " PUB1 " name=rev role=reviewer may=network.*,fs.read=/srv/* "
		"may=process.limit<=64 expires=2030-01-01   # comment\n";
	struct ward_trust t;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_trust_parse(text, strlen(text), "/etc/ward/trust", &t, &err), 0);
	assert_int_equal(t.n_keys, 1);
	assert_int_equal(t.keys[0].line, 3);
	assert_string_equal(t.keys[0].keyid, ID1);
	assert_string_equal(t.keys[0].name, "rev");
	assert_string_equal(t.keys[0].role, "reviewer");
	assert_int_equal(t.keys[0].n_may, 3);
	assert_string_equal(t.keys[0].may[2].text, "process.limit<=64");
	assert_int_equal(t.keys[0].expires, 1893456000);
	assert_false(t.keys[0].revoked);
	ward_trust_free(&t);

	trust_error("kee " PUB1 "\n", "/etc/ward/trust:1: expected \"key");
	trust_error("key\n", "expected \"key");
	trust_error("key notbase64\n", "/etc/ward/trust:1");
	trust_error("key " PUB1 " may=fs.read\n", "takes a value");
	trust_error("key " PUB1 " colour=blue\n", "unknown attribute");
	trust_error("key " PUB1 " expires=2030-02-30\n", "expires=YYYY-MM-DD");
	trust_error("key " PUB1 " role=Reviewer\n", "role=");
	trust_error("key " PUB1 "\nkey " PUB1 "\n", "already listed at line 1");
	trust_error("key " PUB1 " strange\n", "expected name=");
}

/* A policy with two keys, and signers for the decision. */
static const char policy[] = "key " PUB1 " name=pub may=fs.read=*,process.limit<=256\n"
			     "key RWRDzIu+L1NeLteWwgtIfH/fnxvcT4KYHuYpPdEFn8YBOkZaRhE4/UCR "
			     "name=rev may=network.*\n";

static void signer(struct ward_signer *s, const struct ward_trust_key *k,
		   enum ward_signer_status st)
{
	memset(s, 0, sizeof(*s));
	s->file = "manifest.minisig";
	snprintf(s->keyid, sizeof(s->keyid), "%s", k->keyid);
	s->role = "publisher";
	s->status = st;
	s->key = k;
}

static void add_req(struct ward_request_list *l, const char *text, const char *origin)
{
	ward_error_t err = NULL;

	assert_int_equal(ward_parse_allow(l, text, origin, &err), 0);
}

static void test_decide(void **state)
{
	struct ward_trust t;
	struct ward_request_list l = {0};
	struct ward_signer s[2];
	struct ward_trust_report rep;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_trust_parse(policy, strlen(policy), "/tmp/trust", &t, &err), 0);
	add_req(&l, "fs.read=/data", "app.ward:manifest:5");
	add_req(&l, "network.loopback", "app.ward:manifest:6");
	add_req(&l, "network.none", "app.ward:manifest:7");

	/* Publisher alone: network.loopback is not granted. */
	signer(&s[0], &t.keys[0], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 1, &l, &rep, &err), -1);
	assert_int_equal(rep.n_refused, 1);
	assert_true(rep.items[0].granted);
	assert_false(rep.items[1].granted);
	assert_true(rep.items[2].by_default);
	expect_err(&err, "app.ward:manifest:6: network.loopback is not granted");
	ward_trust_report_free(&rep);

	/* With the reviewer's countersignature, everything is. */
	signer(&s[1], &t.keys[1], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), 0);
	assert_ptr_equal(rep.items[1].signer, &s[1]);
	assert_string_equal(rep.items[1].pattern->text, "network.*");
	ward_trust_report_free(&rep);

	/* A revoked reviewer grants nothing. */
	s[1].status = WARD_SIGNER_REVOKED;
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "key "
			 "2E5E532FBE8BCC43 \"rev\" (/tmp/trust:2) could grant it with "
			 "\"network.*\", but it is revoked");
	ward_trust_report_free(&rep);

	/* No usable signer at all. */
	s[0].status = WARD_SIGNER_EXPIRED;
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "no signature of the bundle is by a key the trust policy");
	ward_trust_report_free(&rep);
	assert_int_equal(ward_trust_decide(&t, s, 0, &l, &rep, &err), -1);
	expect_err(&err, "not signed");
	ward_trust_report_free(&rep);

	/* Dangerous: network.* does not reach network.host, and says so. */
	s[0].status = WARD_SIGNER_TRUSTED;
	s[1].status = WARD_SIGNER_TRUSTED;
	add_req(&l, "network.host", "app.ward:manifest:8");
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "\"network.*\" does not reach network.host");
	ward_trust_report_free(&rep);

	ward_request_list_free(&l);
	ward_trust_free(&t);
}

static void test_date(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(ward_parse_date("1970-01-02", &t), 0);
	assert_int_equal(t, 86400);
	assert_int_not_equal(ward_parse_date("2024-13-01", &t), 0);
	assert_int_not_equal(ward_parse_date("2024-1-01", &t), 0);
	assert_int_not_equal(ward_parse_date("2024-01-01x", &t), 0);
	assert_int_equal(ward_parse_date("2024-02-29", &t), 0);
	assert_int_not_equal(ward_parse_date("2023-02-29", &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),   cmocka_unit_test(test_pattern_errors),
		cmocka_unit_test(test_trust_file), cmocka_unit_test(test_decide),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
