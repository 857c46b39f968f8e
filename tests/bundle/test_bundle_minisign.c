/* SPDX-License-Identifier: GPL-2.0-or-later */
/* minisign keys and signatures: known answers from the real minisign tool,
 * round trips, and every way a file can be wrong. */
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

/* Made with minisign 0.11 (Debian 12): minisign -G -W; minisign -S -t ...;
 * minisign -S -l -t 'legacy comment'. */
static const char kat_pub[] = "untrusted comment: minisign public key 915F370EE3BF0FF9\n"
			      "RWT5D7/jDjdfkT+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+\n";
static const char kat_key[] =
	"untrusted comment: minisign encrypted secret key\n"
	"RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+Q+/"
	"4w43X5EKX5cIKtULQ4"
	"FX0aeZXLKRFCWBDzW1dwtTtRBG3Xz4wj+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
static const char kat_msg[] = "hello, ward\n";
static const char kat_sig[] =
	"untrusted comment: signature from minisign secret key\n"
	"RUT5D7/jDjdfkancZJsrPoa5n0KEXaePenFBkjDIN3zBk4MK7+94PBStVeaNNcgidL2UkAr8LewrBdYX+"
	"lbkSYXtytDWivAZEgU=\n"
	"trusted comment: role:reviewer\ttimestamp:1700000000\n"
	"D9whtYHHGyqxoyUGxixjUSYMarbvz6St82mm7euk9QunsozKZ7FgcsSFbbnA9hxFKvBLDqCWrJYXgBPzXdldAw=="
	"\n";
static const char kat_legacy[] =
	"untrusted comment: signature from minisign secret key\n"
	"RWT5D7/jDjdfkayxft1cL788hnhHQqr8PAR7H6RSOxU+ZYf1KlJlYASGPfhVelNyOh/ft/"
	"OI9ZcKcxA4vhrTPYFpWd0nJ812iQs=\n"
	"trusted comment: legacy comment\n"
	"nv7aRT8jTCxRarEtWp90hDJEiIwcV2CJvW8cWuL3vLdTpJRCbyJVuIBnIlD1184aQL9Wg90+iYTGNli85sgoCQ=="
	"\n";

static void expect_err(ward_error_t *err, const char *want)
{
	assert_non_null(*err);
	if (strstr((*err)->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", (*err)->msg, want);
	ward_error_free(err);
}

static void test_kat_pubkey(void **state)
{
	struct ward_pubkey pk;
	ward_error_t err = NULL;
	char id[WARD_KEYID_HEXLEN];
	char *b64, *text;

	(void)state;
	assert_int_equal(ward_pubkey_parse(kat_pub, strlen(kat_pub), "k.pub", &pk, &err), 0);
	ward_keyid_hex(pk.keyid, id);
	assert_string_equal(id, "915F370EE3BF0FF9");
	b64 = ward_pubkey_base64(&pk);
	assert_string_equal(b64, "RWT5D7/jDjdfkT+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+");
	/* The bare base64 form, as minisign -P takes it. */
	assert_int_equal(ward_pubkey_parse(b64, strlen(b64), "-P", &pk, &err), 0);
	text = ward_pubkey_format(&pk);
	assert_string_equal(text, kat_pub);
	free(text);
	free(b64);
}

static void test_kat_verify(void **state)
{
	struct ward_pubkey pk;
	struct ward_signature sig;
	ward_error_t err = NULL;
	char *role;

	(void)state;
	assert_int_equal(ward_pubkey_parse(kat_pub, strlen(kat_pub), "k.pub", &pk, &err), 0);
	assert_int_equal(ward_signature_parse(kat_sig, strlen(kat_sig), "msg.minisig", &sig, &err),
			 0);
	assert_int_equal(sig.alg, WARD_SIG_PREHASHED);
	assert_string_equal(sig.trusted_comment, "role:reviewer\ttimestamp:1700000000");
	assert_int_equal(ward_verify(&pk, &sig, kat_msg, strlen(kat_msg), &err), 0);
	role = ward_trusted_comment_field(sig.trusted_comment, "role");
	assert_string_equal(role, "reviewer");
	free(role);
	/* One changed byte of the message. */
	assert_int_equal(ward_verify(&pk, &sig, "hello, Ward\n", 12, &err), -1);
	expect_err(&err, "does not match the signed file");
	/* A changed trusted comment. */
	free(sig.trusted_comment);
	sig.trusted_comment = strdup("role:publisher\ttimestamp:1700000000");
	assert_int_equal(ward_verify(&pk, &sig, kat_msg, strlen(kat_msg), &err), -1);
	expect_err(&err, "trusted comment was changed");
	ward_signature_free(&sig);

	assert_int_equal(ward_signature_parse(kat_legacy, strlen(kat_legacy), "legacy", &sig, &err),
			 0);
	assert_int_equal(sig.alg, WARD_SIG_LEGACY);
	assert_int_equal(ward_verify(&pk, &sig, kat_msg, strlen(kat_msg), &err), 0);
	/* Algorithm confusion: the same bytes read as the other kind sign
	 * another message (the data vs its BLAKE2b-512), and fail. */
	sig.alg = WARD_SIG_PREHASHED;
	assert_int_equal(ward_verify(&pk, &sig, kat_msg, strlen(kat_msg), &err), -1);
	expect_err(&err, "does not match the signed file");
	ward_signature_free(&sig);
	assert_int_equal(ward_signature_parse(kat_sig, strlen(kat_sig), "msg.minisig", &sig, &err),
			 0);
	sig.alg = WARD_SIG_LEGACY;
	assert_int_equal(ward_verify(&pk, &sig, kat_msg, strlen(kat_msg), &err), -1);
	expect_err(&err, "does not match the signed file");
	ward_signature_free(&sig);
}

static void test_kat_seckey_signs(void **state)
{
	struct ward_pubkey pk, derived;
	struct ward_seckey sk;
	struct ward_signature sig, back;
	ward_error_t err = NULL;
	bool enc = true;
	char *text;

	(void)state;
	assert_int_equal(ward_pubkey_parse(kat_pub, strlen(kat_pub), "k.pub", &pk, &err), 0);
	assert_int_equal(ward_seckey_encrypted(kat_key, strlen(kat_key), "k.key", &enc, &err), 0);
	assert_false(enc);
	assert_int_equal(ward_seckey_parse(kat_key, strlen(kat_key), "k.key", NULL, &sk, &err), 0);
	ward_seckey_public(&sk, &derived);
	assert_memory_equal(&derived, &pk, sizeof(pk));
	assert_int_equal(ward_sign(&sk, kat_msg, strlen(kat_msg), WARD_SIG_PREHASHED,
				   "timestamp:1\trole:publisher", NULL, &sig, &err),
			 0);
	text = ward_signature_format(&sig);
	assert_int_equal(ward_signature_parse(text, strlen(text), "new", &back, &err), 0);
	assert_int_equal(ward_verify(&pk, &back, kat_msg, strlen(kat_msg), &err), 0);
	assert_string_equal(back.trusted_comment, "timestamp:1\trole:publisher");
	free(text);
	ward_signature_free(&sig);
	ward_signature_free(&back);
	ward_seckey_wipe(&sk);
}

static void test_generate_encrypted_round_trip(void **state)
{
	struct ward_pubkey pk, pk2;
	struct ward_seckey sk, sk2;
	ward_error_t err = NULL;
	bool enc = false;
	char *text;

	(void)state;
	assert_int_equal(ward_key_generate(&pk, &sk, &err), 0);
	text = ward_seckey_format(&sk, "correct horse", &ward_kdf_interactive, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "untrusted comment: minisign encrypted secret key\n"));
	assert_int_equal(ward_seckey_encrypted(text, strlen(text), "k", &enc, &err), 0);
	assert_true(enc);
	assert_int_equal(ward_seckey_parse(text, strlen(text), "k", NULL, &sk2, &err), -1);
	assert_int_equal(err->code, ENOKEY);
	ward_error_free(&err);
	assert_int_equal(ward_seckey_parse(text, strlen(text), "k", "wrong", &sk2, &err), -1);
	assert_int_equal(err->code, EKEYREJECTED);
	expect_err(&err, "wrong password");
	assert_int_equal(ward_seckey_parse(text, strlen(text), "k", "correct horse", &sk2, &err),
			 0);
	assert_memory_equal(&sk, &sk2, sizeof(sk));
	ward_seckey_public(&sk2, &pk2);
	assert_memory_equal(&pk, &pk2, sizeof(pk));
	free(text);

	/* Unencrypted, with a real checksum (minisign accepts both). */
	text = ward_seckey_format(&sk, NULL, NULL, &err);
	assert_int_equal(ward_seckey_parse(text, strlen(text), "k", NULL, &sk2, &err), 0);
	assert_memory_equal(&sk, &sk2, sizeof(sk));
	free(text);
}

static void test_wrong_key(void **state)
{
	struct ward_pubkey pk, other;
	struct ward_seckey sk;
	struct ward_signature sig;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_pubkey_parse(kat_pub, strlen(kat_pub), "k.pub", &pk, &err), 0);
	assert_int_equal(ward_key_generate(&other, &sk, &err), 0);
	assert_int_equal(ward_signature_parse(kat_sig, strlen(kat_sig), "s", &sig, &err), 0);
	assert_int_equal(ward_verify(&other, &sig, kat_msg, strlen(kat_msg), &err), -1);
	expect_err(&err, "signed by key 915F370EE3BF0FF9");
	/* Same key id, another key: the signature itself fails. */
	memcpy(other.keyid, pk.keyid, sizeof(pk.keyid));
	assert_int_equal(ward_verify(&other, &sig, kat_msg, strlen(kat_msg), &err), -1);
	expect_err(&err, "does not match");
	ward_signature_free(&sig);
}

static void sig_error(const char *text, const char *want)
{
	struct ward_signature sig;
	ward_error_t err = NULL;

	assert_int_equal(ward_signature_parse(text, strlen(text), "s", &sig, &err), -1);
	expect_err(&err, want);
}

static void test_signature_errors(void **state)
{
	char big[WARD_SIGFILE_MAX + 10];

	(void)state;
	sig_error("", "four lines");
	sig_error("untrusted comment: x\nRWQ=\n", "four lines");
	sig_error("x\nRUT5\ntrusted comment: a\nAAAA\n", "expected \"untrusted comment");
	sig_error(
		"untrusted comment: x\n"
		"RUT5D7/jDjdfkancZJsrPoa5n0KEXaePenFBkjDIN3zBk4MK7+94PBStVeaNNcgidL2UkAr8LewrBdYX+"
		"lbkSYXtytDWivAZEgU=\n"
		"no trusted comment\nAAAA\n",
		"trusted comment");
	sig_error("untrusted comment: x\n!!!\ntrusted comment: a\nAAAA\n", "base64");
	sig_error("untrusted comment: x\nRWQAAA==\ntrusted comment: a\nAAAA\n", "bytes long");
	/* An unknown algorithm: "Xx" + 72 bytes. */
	sig_error("untrusted comment: x\n"
		  "WHgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntrusted comment: a\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAA=="
		  "\n",
		  "unsupported signature algorithm");
	sig_error("untrusted comment: x\nRUT5\ntrusted comment: a\nAAAA\nextra line\n",
		  "four lines");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sig_error(big, "larger than");
}

static void test_key_errors(void **state)
{
	struct ward_pubkey pk;
	struct ward_seckey sk;
	ward_error_t err = NULL;
	char bad[sizeof(kat_key)];

	(void)state;
	assert_int_equal(ward_pubkey_parse("hello", 5, "p", &pk, &err), -1);
	expect_err(&err, "p:");
	assert_int_equal(ward_pubkey_parse("untrusted comment: x\n", 21, "p", &pk, &err), -1);
	expect_err(&err, "not a minisign public key");
	/* A signature is not a key. */
	assert_int_equal(ward_pubkey_parse(kat_sig, strlen(kat_sig), "p", &pk, &err), -1);
	ward_error_free(&err);
	/* A public key is not a secret key. */
	assert_int_equal(ward_seckey_parse(kat_pub, strlen(kat_pub), "k", NULL, &sk, &err), -1);
	expect_err(&err, "bytes long");
	/* One flipped bit in the secret key: the seed no longer matches its
	 * public half. */
	memcpy(bad, kat_key, sizeof(kat_key));
	bad[150] = bad[150] == 'A' ? 'B' : 'A';
	assert_int_equal(ward_seckey_parse(bad, strlen(bad), "k", NULL, &sk, &err), -1);
	ward_error_free(&err);
}

static void test_keyid(void **state)
{
	uint8_t id[WARD_KEYID_BYTES];
	char hex[WARD_KEYID_HEXLEN];

	(void)state;
	assert_int_equal(ward_keyid_parse("915F370EE3BF0FF9", id), 0);
	ward_keyid_hex(id, hex);
	assert_string_equal(hex, "915F370EE3BF0FF9");
	assert_int_equal(ward_keyid_parse("915f370ee3bf0ff9", id), 0);
	assert_int_not_equal(ward_keyid_parse("915F370EE3BF0FF", id), 0);
	assert_int_not_equal(ward_keyid_parse("915F370EE3BF0FFX", id), 0);
}

static void test_trusted_comment_field(void **state)
{
	char *v;

	(void)state;
	v = ward_trusted_comment_field("timestamp:12\tfile:manifest\trole:reviewer", "role");
	assert_string_equal(v, "reviewer");
	free(v);
	v = ward_trusted_comment_field("timestamp:12\tfile:manifest", "role");
	assert_null(v);
	v = ward_trusted_comment_field("roles:x\trole:", "role");
	assert_string_equal(v, "");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_pubkey),
		cmocka_unit_test(test_kat_verify),
		cmocka_unit_test(test_kat_seckey_signs),
		cmocka_unit_test(test_generate_encrypted_round_trip),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_signature_errors),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_trusted_comment_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
