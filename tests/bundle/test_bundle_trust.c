/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trust policy: patterns, the file, and the decision (pure code). */
#include <errno.h>
#include <fnmatch.h>
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
	assert_int_equal(t.keys[0].n_roles, 1);
	assert_string_equal(t.keys[0].roles[0], "reviewer");
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

/* ---- issue 11, item 7: addresses and names never match each other */

static bool connect_ok(const char *value, bool *is_addr)
{
	ward_error_t err = NULL;
	uint32_t addr;
	uint16_t port;
	bool a = false;
	int rc = ward_connect_parse(value, "m:1", NULL, is_addr ? is_addr : &a, &addr, &port, &err);

	ward_error_free(&err);
	return rc == 0;
}

static void test_connect_values(void **state)
{
	bool is_addr;

	(void)state;
	assert_true(connect_ok("10.0.0.5:443", &is_addr));
	assert_true(is_addr);
	assert_true(connect_ok("DB.Example.com:5432", &is_addr));
	assert_false(is_addr);
	assert_true(connect_ok("10.0.0.5.nip.io:443", &is_addr));
	assert_false(is_addr);
	/* What inet_aton (and so getaddrinfo) reads as an address in another
	 * form is neither an address nor a name: refused. */
	assert_false(connect_ok("10.5:443", NULL));
	assert_false(connect_ok("0x0a.0.0.5:443", NULL));
	assert_false(connect_ok("010.0.0.5:443", NULL));
	assert_false(connect_ok("167772165:443", NULL));
	assert_false(connect_ok("0xa9fea9fe:80", NULL));
	/* A last label of digits is not a name either. */
	assert_false(connect_ok("1.2.3.4.5:443", NULL));
	assert_false(connect_ok("10.0.0.256:443", NULL));
	assert_false(connect_ok("10.0.0.5:0", NULL));
	assert_false(connect_ok("10.0.0.5:65536", NULL));
	assert_false(connect_ok("[::1]:443", NULL));
}

static void test_connect_patterns(void **state)
{
	(void)state;
	/* The example: a glob over addresses is refused, with the CIDR
	 * to write instead. */
	pattern_error("network.connect=10.0.0.*:443", "CIDR form: network.connect=10.0.0.0/24:443");
	pattern_error("network.connect=10.0.0.*:443", "10.0.0.5.nip.io");
	pattern_error("network.connect=10.*:443", "10.0.0.0/8");
	pattern_error("network.connect=10.0.0.1?:443", "CIDR form");
	pattern_error("network.connect=10.0.0.5/24:443", "did you mean 10.0.0.0/24?");
	pattern_error("network.connect=10.0.0.0/33:443", "A.B.C.D/BITS");
	pattern_error("network.connect=10.0.0.0/24", "write HOST:PORT");
	pattern_error("network.connect=10.0.0.0/24:0", "write HOST:PORT");
	pattern_error("network.connect=10.0.0.0/24:9-8", "write HOST:PORT");
	pattern_error("network.connect=a b:1", "a host is");

	assert_true(match("network.connect=10.0.0.0/24:443", "network.connect", "10.0.0.5:443"));
	assert_true(match("network.connect=10.0.0.0/24:443", "network.connect", "10.0.0.255:443"));
	assert_false(match("network.connect=10.0.0.0/24:443", "network.connect", "10.0.1.5:443"));
	assert_false(match("network.connect=10.0.0.0/24:443", "network.connect", "10.0.0.5:444"));
	/* The attack: a name that starts like an address. */
	assert_false(
		match("network.connect=10.0.0.0/24:443", "network.connect", "10.0.0.5.nip.io:443"));
	assert_false(match("network.connect=10.0.0.0/24:443", "network.connect", "010.0.0.5:443"));
	assert_false(match("network.connect=10.0.0.0/24:443", "network.connect", "10.5:443"));
	assert_true(match("network.connect=10.0.0.7:443", "network.connect", "10.0.0.7:443"));
	assert_false(match("network.connect=10.0.0.7:443", "network.connect", "10.0.0.8:443"));
	assert_true(match("network.connect=0.0.0.0/0:*", "network.connect", "1.2.3.4:9"));
	assert_false(match("network.connect=0.0.0.0/0:*", "network.connect", "db:9"));
	/* Names: each wildcard stays within one label. */
	assert_true(match("network.connect=db*:5432", "network.connect", "db1:5432"));
	assert_false(
		match("network.connect=db*:5432", "network.connect", "db.attacker.example:5432"));
	assert_true(
		match("network.connect=*.example.com:443", "network.connect", "a.example.com:443"));
	assert_true(
		match("network.connect=*.example.com:443", "network.connect", "A.Example.COM:443"));
	assert_false(match("network.connect=*.example.com:443", "network.connect",
			   "a.b.example.com:443"));
	assert_false(
		match("network.connect=*.example.com:443", "network.connect", "example.com:443"));
	assert_false(match("network.connect=db:5432", "network.connect", "db.:5432"));
	/* A name pattern never grants an address. */
	assert_false(match("network.connect=*.nip.io:443", "network.connect", "10.0.0.5:443"));
	/* Ports: a number, a range, or any. */
	assert_true(match("network.connect=db:1000-2000", "network.connect", "db:1000"));
	assert_true(match("network.connect=db:1000-2000", "network.connect", "db:2000"));
	assert_false(match("network.connect=db:1000-2000", "network.connect", "db:2001"));
	assert_true(match("network.connect=db:5432", "network.connect", "db:05432"));
	assert_true(match("network.connect=*:443", "network.connect", "10.0.0.5:443"));
	assert_true(match("network.connect=*:443", "network.connect", "db:443"));
	assert_false(match("network.connect=*:443", "network.connect", "db:80"));
	assert_true(match("network.connect=*", "network.connect", "db:80"));
	/* What the resolver refuses, no pattern grants. */
	assert_false(match("network.connect=*", "network.connect", "0x0a.0.0.5:80"));
	assert_false(match("network.connect=*", "network.connect", "db"));
	/* network.listen: a port, a range, or any. */
	assert_true(match("network.listen=8000-8999", "network.listen", "8080"));
	assert_false(match("network.listen=8000-8999", "network.listen", "80"));
	assert_true(match("network.listen=80", "network.listen", "080"));
	pattern_error("network.listen=80*", "a range N-M");
}

/* Every CIDR, checked against the arithmetic. */
static void test_connect_cidr_exhaustive(void **state)
{
	static const uint32_t probes[] = {0x00000000, 0x0a000005, 0x0a0000ff, 0x0a000105,
					  0x0affffff, 0x0b000000, 0xa9fea9fe, 0xffffffff,
					  0x7f000001, 0xc0a80101};
	unsigned bits, a, b;

	(void)state;
	for (bits = 0; bits <= 32; bits++) {
		for (a = 0; a < sizeof(probes) / sizeof(probes[0]); a++) {
			uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
			uint32_t net = probes[a] & mask;
			char pat[96];

			snprintf(pat, sizeof(pat), "network.connect=%u.%u.%u.%u/%u:443", net >> 24,
				 (net >> 16) & 255, (net >> 8) & 255, net & 255, bits);
			for (b = 0; b < sizeof(probes) / sizeof(probes[0]); b++) {
				uint32_t x = probes[b];
				char req[64], named[80];

				snprintf(req, sizeof(req), "%u.%u.%u.%u:443", x >> 24,
					 (x >> 16) & 255, (x >> 8) & 255, x & 255);
				snprintf(named, sizeof(named), "%u.%u.%u.%u.nip.io:443", x >> 24,
					 (x >> 16) & 255, (x >> 8) & 255, x & 255);
				assert_int_equal(match(pat, "network.connect", req),
						 (x & mask) == net);
				assert_false(match(pat, "network.connect", named));
			}
		}
	}
}

/* ---- issue 11, item 8: a wildcard request needs a pattern covering its set */

/* Every name over {a, b, -} of length at most n, into out (NUL separated). */
static size_t all_names(char out[][8], size_t max, unsigned n)
{
	static const char alpha[] = "ab-";
	size_t count = 0, len, i;

	for (len = 0; len <= n; len++) {
		size_t total = 1, k;

		for (i = 0; i < len; i++)
			total *= 3;
		for (k = 0; k < total && count < max; k++) {
			size_t v = k;

			for (i = 0; i < len; i++) {
				out[count][i] = alpha[v % 3];
				v /= 3;
			}
			out[count][len] = '\0';
			count++;
		}
	}
	return count;
}

static void test_broker_name_containment(void **state)
{
	static char names[400][8];
	static const char *const pats[] = {
		"*",   "a*",	"ab*",	"a",	  "ab",	   "a?", "a?*",	 "?*",
		"??",  "a[!b]", "a[b]", "a[!b]*", "[ab]*", "*b", "a*b",	 "*a*",
		"a-*", "",	"a-?",	"b*",	  "ab-*",  "**", "a\\*",
	};
	size_t n = all_names(names, 400, 4), i, j, k;
	char req[24];

	(void)state;
	/* The example, through the trust pattern itself. */
	assert_false(match("service.connect=db-?", "service.connect", "db-*"));
	assert_false(match("ipc.send=db-[!x]", "ipc.send", "db-*"));
	assert_false(match("service.provide=db-?*", "service.provide", "db-*"));
	assert_true(match("service.connect=db-?", "service.connect", "db-1"));
	assert_true(match("service.connect=db-*", "service.connect", "db-*"));
	assert_true(match("service.connect=db-*", "service.connect", "db-a*"));
	assert_false(match("service.connect=db-a*", "service.connect", "db-*"));
	assert_true(match("service.connect=*", "service.connect", "db-*"));
	assert_true(match("service.connect=*", "service.connect", "*"));
	assert_false(match("service.connect=db*", "service.connect", "*"));
	pattern_error("ipc.send=DB", "names are a-z");

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		for (j = 0; j < n; j++) {
			bool every = true;

			/* A plain name: exactly what fnmatch says. */
			if (names[j][0])
				assert_int_equal(ward_trust_name_covers(pats[i], names[j]),
						 fnmatch(pats[i], names[j], 0) == 0);
			/* NAME*: granted only if every name with that prefix (here:
			 * every extension up to the universe's length) matches, and
			 * then always for a prefix-star. */
			snprintf(req, sizeof(req), "%.7s*", names[j]);
			for (k = 0; k < n; k++)
				if (strncmp(names[k], names[j], strlen(names[j])) == 0 &&
				    fnmatch(pats[i], names[k], 0) != 0)
					every = false;
			if (ward_trust_name_covers(pats[i], req))
				assert_true(every);
			{
				size_t pl = strlen(pats[i]);
				bool prefix_star = pl > 0 && pats[i][pl - 1] == '*' &&
						   strcspn(pats[i], "*?[]!\\") == pl - 1 &&
						   strncmp(pats[i], names[j], pl - 1) == 0;

				assert_int_equal(ward_trust_name_covers(pats[i], req),
						 prefix_star || strcmp(pats[i], "*") == 0);
			}
			/* Globs in a request anywhere but at its end: never. */
			snprintf(req, sizeof(req), "%.7s?", names[j]);
			assert_false(ward_trust_name_covers(pats[i], req));
			snprintf(req, sizeof(req), "*%.7s*", names[j]);
			assert_false(ward_trust_name_covers(pats[i], req));
		}
	}
}

/* ---- api.open: paths as components, the mode apart */

static void test_open_patterns(void **state)
{
	(void)state;
	assert_true(match("api.open=/srv/x/*", "api.open", "/srv/x/a"));
	assert_true(match("api.open=/srv/x/*", "api.open", "/srv/x/a:ro"));
	/* The mode is not part of the matched text. */
	assert_false(match("api.open=/srv/x/*", "api.open", "/srv/x/a:rw"));
	assert_false(match("api.open=/srv/*", "api.open", "/srv/x:rw"));
	assert_true(match("api.open=/srv/x/*:rw", "api.open", "/srv/x/a:rw"));
	assert_true(match("api.open=/srv/x/*:rw", "api.open", "/srv/x/a"));
	assert_true(match("api.open=/srv/x/*:ro", "api.open", "/srv/x/a"));
	/* '*' does not cross '/'; ".." never matches. */
	assert_false(match("api.open=/srv/*/pub", "api.open", "/srv/a/b/pub"));
	assert_true(match("api.open=/srv/*/pub", "api.open", "/srv/a/pub"));
	assert_false(match("api.open=/srv/x/*", "api.open", "/srv/x/../../etc/shadow"));
	assert_false(match("api.open=/srv/x/*", "api.open", "/srv/x/../../etc/shadow:ro"));
	assert_true(match("api.open=/srv/x", "api.open", "/srv//x/"));
	assert_false(match("api.open=/srv/x", "api.open", "/srv/x:bogus"));
	assert_true(match("api.open=*", "api.open", "/etc/x"));
	assert_false(match("api.open=*", "api.open", "/etc/x:rw"));
	assert_true(match("api.open=*:rw", "api.open", "/etc/x:rw"));
	/* "~" is the same home for the pattern and the request. */
	assert_true(match("api.open=~/*", "api.open", "~/a/b"));
	assert_false(match("api.open=~/*", "api.open", "~/../etc"));
	assert_false(match("api.open=/root/*", "api.open", "~/a"));
	assert_false(match("fs.read=~/*", "fs.read", "~/.."));
	pattern_error("api.open=srv/x", "api.open patterns are paths");
	pattern_error("api.open=/srv/x:xx", "ro or rw");
}

/* ---- roles the operator gives, and require lines */

#define PUB2 "RWRDzIu+L1NeLteWwgtIfH/fnxvcT4KYHuYpPdEFn8YBOkZaRhE4/UCR"
/* Same id as PUB1, another key (ids are chosen by a key's maker). */
#define PUB1_TWIN "RWT5D7/jDjdfkQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"

static void test_require(void **state)
{
	static const char text[] = "key " PUB1 " name=pub role=publisher may=network.*,fs.read=*\n"
				   "key " PUB2 " name=rev role=reviewer,auditor may=network.*\n"
				   "key " PUB1_TWIN " name=twin role=reviewer may=*\n"
				   "require network.*,process.setuid by=publisher,reviewer\n"
				   "require fs.read=/secret/* by=reviewer,reviewer\n";
	struct ward_trust t;
	struct ward_request_list l = {0};
	struct ward_signer s[3];
	struct ward_trust_report rep;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_trust_parse(text, strlen(text), "/tmp/trust", &t, &err), 0);
	assert_int_equal(t.n_keys, 3);
	assert_int_equal(t.n_reqs, 2);
	assert_int_equal(t.keys[1].n_roles, 2);
	assert_true(ward_trust_key_has_role(&t.keys[1], "auditor"));
	assert_false(ward_trust_key_has_role(&t.keys[0], "reviewer"));
	assert_ptr_equal(ward_trust_find_pk(&t, &t.keys[2].pk), &t.keys[2]);
	add_req(&l, "network.loopback", "app.ward:manifest:5");

	/* The publisher alone may grant network.*, but the policy wants a
	 * reviewer too.  Whatever role the signature claims. */
	signer(&s[0], &t.keys[0], WARD_SIGNER_TRUSTED);
	s[0].role = "reviewer";
	assert_int_equal(ward_trust_decide(&t, s, 1, &l, &rep, &err), -1);
	assert_ptr_equal(rep.items[0].unmet, &t.reqs[0]);
	expect_err(&err, "network.loopback lacks the signers the policy requires");
	ward_trust_report_free(&rep);

	signer(&s[1], &t.keys[1], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), 0);
	ward_trust_report_free(&rep);

	/* A signer in the role that is not usable does not count. */
	s[1].status = WARD_SIGNER_INVALID;
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "granted by publisher and reviewer (/tmp/trust:4");
	ward_trust_report_free(&rep);

	/* Two signature files by one key are one signer: the same key cannot
	 * be both reviewers. */
	ward_request_list_free(&l);
	add_req(&l, "fs.read=/secret/a", "app.ward:manifest:6");
	signer(&s[0], &t.keys[2], WARD_SIGNER_TRUSTED);
	signer(&s[1], &t.keys[2], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "lacks the signers");
	ward_trust_report_free(&rep);
	/* The second reviewer's key must also be one that may grant it. */
	signer(&s[1], &t.keys[1], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 2, &l, &rep, &err), -1);
	expect_err(&err, "lacks the signers");
	ward_trust_report_free(&rep);
	ward_request_list_free(&l);

	/* A require pattern reaches dangerous entitlements through globs too;
	 * here it names one.  twin (reviewer, may=*) does not reach
	 * process.setuid at all: the grant itself fails first. */
	add_req(&l, "process.setuid", "app.ward:manifest:7");
	signer(&s[0], &t.keys[0], WARD_SIGNER_TRUSTED);
	assert_int_equal(ward_trust_decide(&t, s, 1, &l, &rep, &err), -1);
	expect_err(&err, "is not granted by any trusted signer");
	ward_trust_report_free(&rep);
	ward_request_list_free(&l);
	ward_trust_free(&t);

	{
		static const char glob[] = "key " PUB1 " role=publisher may=process.setuid,*\n"
					   "require * by=publisher,reviewer\n";

		assert_int_equal(ward_trust_parse(glob, strlen(glob), "/tmp/t", &t, &err), 0);
		add_req(&l, "process.setuid", "m:1");
		signer(&s[0], &t.keys[0], WARD_SIGNER_TRUSTED);
		assert_int_equal(ward_trust_decide(&t, s, 1, &l, &rep, &err), -1);
		expect_err(&err, "process.setuid (dangerous) lacks the signers");
		ward_trust_report_free(&rep);
		ward_request_list_free(&l);
		ward_trust_free(&t);
	}

	trust_error("require network.*\n", "require PATTERNS by=ROLE,ROLE");
	trust_error("require by=a\n", "require PATTERNS by=ROLE,ROLE");
	trust_error("require netwrk.* by=a\n", "matches no entitlement");
	trust_error("require network.* by=A\n", "a role is");
	trust_error("require network.* by=a,,b\n", "separated by commas");
	trust_error("require network.* by=a x\n", "write require PATTERNS");
	trust_error("key " PUB1 " role=a,a\n", "listed twice");
	trust_error("key " PUB1 " role=a role=b\n", "role= once");
	trust_error("require network.* by=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", "more than 16");
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
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_pattern_errors),
		cmocka_unit_test(test_trust_file),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_connect_values),
		cmocka_unit_test(test_connect_patterns),
		cmocka_unit_test(test_connect_cidr_exhaustive),
		cmocka_unit_test(test_broker_name_containment),
		cmocka_unit_test(test_open_patterns),
		cmocka_unit_test(test_require),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
