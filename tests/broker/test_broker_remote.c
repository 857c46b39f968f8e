/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mailboxes across hosts, the pure half (lib/broker/remote.c): signed
 * frames, the replay window, names and patterns, the configuration. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "broker/broker.h"
#include "broker/remote.h"
#include "bundle/bundle.h"

static uint8_t pk_a[32], sk_a[64], pk_b[32], sk_b[64];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk_a, sk_a);
	crypto_sign_keypair(pk_b, sk_b);
	return 0;
}

static void message(struct ward_remote_frame *f, const char *body)
{
	memset(f, 0, sizeof(*f));
	f->kind = WARD_REMOTE_MESSAGE;
	strcpy(f->from_host, "a");
	strcpy(f->from_name, "web");
	strcpy(f->to_host, "b");
	strcpy(f->to_name, "inventory");
	memset(f->id, 7, sizeof(f->id));
	f->ts_ms = 1700000000000ULL;
	f->body = (const uint8_t *)body;
	f->body_len = (uint32_t)strlen(body);
}

static void test_round_trip(void **state)
{
	static uint8_t buf[WARD_REMOTE_MAX_FRAME];
	struct ward_remote_frame f, g;
	const char *why;
	size_t n;

	(void)state;
	message(&f, "hello");
	n = ward_remote_encode(&f, sk_a, buf, sizeof(buf));
	assert_true(n > WARD_REMOTE_SIG_BYTES);
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), 0);
	assert_int_equal(g.kind, WARD_REMOTE_MESSAGE);
	assert_string_equal(g.from_host, "a");
	assert_string_equal(g.from_name, "web");
	assert_string_equal(g.to_host, "b");
	assert_string_equal(g.to_name, "inventory");
	assert_memory_equal(g.id, f.id, sizeof(f.id));
	assert_true(g.ts_ms == f.ts_ms);
	assert_int_equal(g.body_len, 5);
	assert_memory_equal(g.body, "hello", 5);
	assert_true(ward_remote_verify(buf, n, pk_a));
	/* Another host's key does not verify it. */
	assert_false(ward_remote_verify(buf, n, pk_b));
}

/* Every single byte changed (header, names, id, timestamp, body, the
 * signature itself) breaks the signature. */
static void test_every_byte_signed(void **state)
{
	static uint8_t buf[WARD_REMOTE_MAX_FRAME];
	struct ward_remote_frame f;
	size_t n, i;

	(void)state;
	message(&f, "pay 10 to bob");
	n = ward_remote_encode(&f, sk_a, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		buf[i] ^= 0x01;
		assert_false(ward_remote_verify(buf, n, pk_a));
		buf[i] ^= 0x01;
	}
	assert_true(ward_remote_verify(buf, n, pk_a));
	/* Cut or extended: not the signed frame either. */
	assert_false(ward_remote_verify(buf, n - 1, pk_a));
}

/* Length prefixes: moving a byte from one name to the next makes another
 * frame, and the signature says so (no "ab"+"c" == "a"+"bc"). */
static void test_canonical(void **state)
{
	static uint8_t b1[WARD_REMOTE_MAX_FRAME], b2[WARD_REMOTE_MAX_FRAME];
	struct ward_remote_frame f;
	size_t n1, n2;

	(void)state;
	message(&f, "x");
	strcpy(f.from_host, "ab");
	strcpy(f.from_name, "c");
	n1 = ward_remote_encode(&f, sk_a, b1, sizeof(b1));
	strcpy(f.from_host, "a");
	strcpy(f.from_name, "bc");
	n2 = ward_remote_encode(&f, sk_a, b2, sizeof(b2));
	assert_int_equal(n1, n2);
	assert_memory_not_equal(b1, b2, n1 - WARD_REMOTE_SIG_BYTES);
}

static void test_decode_refuses(void **state)
{
	static uint8_t buf[WARD_REMOTE_MAX_FRAME + 16];
	struct ward_remote_frame f, g;
	const char *why = NULL;
	size_t n, i;

	(void)state;
	message(&f, "hello");
	n = ward_remote_encode(&f, sk_a, buf, sizeof(buf));
	/* Every truncation fails, never reads past the end. */
	for (i = 0; i < n; i++)
		assert_int_equal(ward_remote_decode(buf, i, &g, &why), -1);
	/* Bad magic, kind. */
	buf[0] ^= 0xff;
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
	assert_non_null(strstr(why, "magic"));
	buf[0] ^= 0xff;
	buf[8] = 9;
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
	assert_non_null(strstr(why, "kind"));
	buf[8] = WARD_REMOTE_MESSAGE;
	/* A name that is not a name: upper case, '@', a control character. */
	buf[8 + 1 + 4] = 'A';
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
	buf[8 + 1 + 4] = '@';
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
	buf[8 + 1 + 4] = '\n';
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
	buf[8 + 1 + 4] = 'a';
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), 0);
	/* A byte more: the body length no longer matches. */
	memmove(buf + n - WARD_REMOTE_SIG_BYTES + 1, buf + n - WARD_REMOTE_SIG_BYTES,
		WARD_REMOTE_SIG_BYTES);
	buf[n - WARD_REMOTE_SIG_BYTES] = 'x';
	assert_int_equal(ward_remote_decode(buf, n + 1, &g, &why), -1);
	/* Larger than any frame. */
	assert_int_equal(ward_remote_decode(buf, WARD_REMOTE_MAX_FRAME + 1, &g, &why), -1);
	/* An empty sender is allowed only for a notice. */
	strcpy(f.from_name, "");
	n = ward_remote_encode(&f, sk_a, buf, sizeof(buf));
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), -1);
}

static void test_oversized_body(void **state)
{
	static uint8_t buf[WARD_REMOTE_MAX_FRAME];
	static uint8_t big[WARD_PROTO_MAX_DATA + 1];
	struct ward_remote_frame f;

	(void)state;
	message(&f, "");
	f.body = big;
	f.body_len = sizeof(big);
	assert_int_equal(ward_remote_encode(&f, sk_a, buf, sizeof(buf)), 0);
	f.body_len = WARD_PROTO_MAX_DATA;
	assert_true(ward_remote_encode(&f, sk_a, buf, sizeof(buf)) > WARD_PROTO_MAX_DATA);
}

static void test_notice(void **state)
{
	static uint8_t buf[WARD_REMOTE_MAX_FRAME];
	struct ward_remote_frame f, g;
	const char *why;
	size_t n;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = WARD_REMOTE_NOTICE;
	strcpy(f.from_host, "b");
	strcpy(f.from_name, "inventory");
	strcpy(f.to_host, "a");
	strcpy(f.to_name, "web");
	memset(f.ref, 3, sizeof(f.ref));
	f.code = EACCES;
	strcpy(f.text, "\"inventory\" on \"b\" has no mailbox");
	strcpy(f.ent, "ipc.recv");
	n = ward_remote_encode(&f, sk_b, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ward_remote_decode(buf, n, &g, &why), 0);
	assert_int_equal(g.kind, WARD_REMOTE_NOTICE);
	assert_memory_equal(g.ref, f.ref, sizeof(f.ref));
	assert_int_equal(g.code, EACCES);
	assert_string_equal(g.text, f.text);
	assert_string_equal(g.ent, "ipc.recv");
	assert_true(ward_remote_verify(buf, n, pk_b));
}

static void test_seen(void **state)
{
	struct ward_seen s;
	uint8_t id[16] = {1}, id2[16] = {2}, id3[16] = {3};
	uint64_t now = 10000000;

	(void)state;
	ward_seen_init(&s, 60000, 2);
	assert_int_equal(ward_seen_check(&s, id, now, now), WARD_SEEN_FRESH);
	ward_seen_add(&s, id, now);
	assert_int_equal(ward_seen_check(&s, id, now, now), WARD_SEEN_DUPLICATE);
	/* Older than the window: cannot be checked, refused. */
	assert_int_equal(ward_seen_check(&s, id2, now - 60001, now), WARD_SEEN_TOO_OLD);
	assert_int_equal(ward_seen_check(&s, id2, now - 59999, now), WARD_SEEN_FRESH);
	assert_int_equal(ward_seen_check(&s, id2, now + WARD_REMOTE_SKEW_MS + 1, now),
			 WARD_SEEN_FUTURE);
	/* Full: the oldest is forgotten, and the floor rises past it, so a
	 * replay of it is still refused (as too old). */
	ward_seen_add(&s, id2, now + 1);
	ward_seen_add(&s, id3, now + 2);
	assert_int_equal(ward_seen_check(&s, id, now, now + 3), WARD_SEEN_TOO_OLD);
	assert_int_equal(ward_seen_check(&s, id3, now + 2, now + 3), WARD_SEEN_DUPLICATE);
	/* Expiry forgets what left the window; those stay refused as too old. */
	ward_seen_expire(&s, now + 70000);
	assert_int_equal((int)s.n, 0);
	assert_int_equal(ward_seen_check(&s, id3, now + 2, now + 70000), WARD_SEEN_TOO_OLD);
	ward_seen_free(&s);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(ward_proto_name_ok("inventory@b", 11));
	assert_true(ward_proto_name_ok("db", 2));
	assert_false(ward_proto_name_ok("a@b@c", 5));
	assert_false(ward_proto_name_ok("@b", 2));
	assert_false(ward_proto_name_ok("a@", 2));
	assert_false(ward_proto_local_name_ok("a@b", 3));
	/* A local pattern, however wide, never matches a remote name. */
	assert_true(ward_broker_name_match("*", "db"));
	assert_false(ward_broker_name_match("*", "db@b"));
	assert_false(ward_broker_name_match("db*", "db@b"));
	assert_true(ward_broker_name_match("inventory@b", "inventory@b"));
	assert_false(ward_broker_name_match("inventory@b", "inventory@c"));
	assert_false(ward_broker_name_match("inventory@b", "inventory"));
	assert_true(ward_broker_name_match("*@b", "x@b"));
	assert_false(ward_broker_name_match("*@b", "x@bb"));
	assert_true(ward_broker_name_match("inv*@b*", "inventory@b2"));
	assert_true(ward_broker_name_match("inventory@*", "inventory@zz"));
	assert_false(ward_broker_name_match("inventory@*", "inventory2@zz"));
}

static void test_entitlement(void **state)
{
	char *ok[] = {(char *)"ipc.send=inventory@b", (char *)"ipc.send=*@b"};
	char *bad1[] = {(char *)"service.connect=db@b"};
	char *bad2[] = {(char *)"ipc.send=a@b@c"};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_broker_grants_parse(ok, 2, &p, &err), 0);
	assert_non_null(ward_broker_allows(p.broker, p.n_broker, WARD_BROKER_SEND, "inventory@b"));
	assert_null(ward_broker_allows(p.broker, p.n_broker, WARD_BROKER_SEND, "inventory@c"));
	assert_null(ward_broker_allows(p.broker, p.n_broker, WARD_BROKER_SEND, "inventory"));
	ward_policy_free(&p);
	memset(&p, 0, sizeof(p));
	assert_int_equal(ward_broker_grants_parse(bad1, 1, &p, &err), -1);
	assert_non_null(strstr(err->msg, "services do not cross hosts"));
	ward_error_free(&err);
	assert_int_equal(ward_broker_grants_parse(bad2, 1, &p, &err), -1);
	ward_error_free(&err);
}

static void test_config(void **state)
{
	struct ward_remote_config c;
	ward_error_t err = NULL;
	char dir[] = "/tmp/ward-remote-XXXXXX", path[128], pub[128], *b64;
	struct ward_pubkey pk;
	struct ward_seckey sk;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ward_key_generate(&pk, &sk, &err), 0);
	b64 = ward_pubkey_base64(&pk);
	snprintf(pub, sizeof(pub), "%s/b.pub", dir);
	fp = fopen(pub, "w");
	fprintf(fp, "untrusted comment: b\n%s\n", b64);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/broker.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp,
		"# host a\nhost a\namqp amqp://ward-a:x@127.0.0.1:45000/\npeer b %s\n"
		"allow b inventory web-*\nreplay-window 120\n",
		pub);
	fclose(fp);
	ward_remote_config_init(&c);
	assert_int_equal(ward_remote_config_load(&c, path, &err), 0);
	assert_string_equal(c.host, "a");
	assert_int_equal((int)c.n_peers, 1);
	assert_memory_equal(c.peers[0].pk, pk.pk, 32);
	assert_int_equal((int)c.peers[0].n_allow, 2);
	assert_non_null(ward_remote_peer_allows(&c.peers[0], "inventory"));
	assert_non_null(ward_remote_peer_allows(&c.peers[0], "web-1"));
	assert_null(ward_remote_peer_allows(&c.peers[0], "db"));
	assert_int_equal((int)c.window_s, 120);
	/* Errors name the place. */
	assert_int_equal(ward_remote_config_set(&c, "peer-allow", "c=x", "--peer-allow", &err), -1);
	assert_non_null(strstr(err->msg, "not a listed peer"));
	ward_error_free(&err);
	assert_int_equal(ward_remote_config_set(&c, "peer-allow", "b=Bad", "--peer-allow", &err),
			 -1);
	ward_error_free(&err);
	assert_int_equal(ward_remote_config_set(&c, "amqp", "http://x", "--amqp", &err), -1);
	ward_error_free(&err);
	/* A host key: missing, then readable by others, then fine. */
	assert_int_equal(ward_remote_config_finish(&c, &err), -1);
	assert_non_null(strstr(err->msg, "--host-key"));
	ward_error_free(&err);
	{
		char kpath[128], *text = ward_seckey_format(&sk, NULL, NULL, &err);

		snprintf(kpath, sizeof(kpath), "%s/a.key", dir);
		fp = fopen(kpath, "w");
		fputs(text, fp);
		fclose(fp);
		free(text);
		chmod(kpath, 0644);
		assert_int_equal(ward_remote_config_set(&c, "host-key", kpath, "--host-key", &err),
				 0);
		assert_int_equal(ward_remote_config_finish(&c, &err), -1);
		assert_non_null(strstr(err->msg, "chmod 600"));
		ward_error_free(&err);
		chmod(kpath, 0600);
		assert_int_equal(ward_remote_config_finish(&c, &err), 0);
		assert_memory_equal(c.sk, sk.sk, 64);
		unlink(kpath);
	}
	ward_remote_config_free(&c);
	free(b64);
	unlink(pub);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_every_byte_signed),
		cmocka_unit_test(test_canonical),      cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_oversized_body), cmocka_unit_test(test_notice),
		cmocka_unit_test(test_seen),	       cmocka_unit_test(test_names),
		cmocka_unit_test(test_entitlement),    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
