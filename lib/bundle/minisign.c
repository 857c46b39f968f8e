/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keys and signatures in minisign's format, with libsodium.
 *
 * Every file is text: an "untrusted comment: ..." line, then one base64 line.
 * A signature file adds a "trusted comment: ..." line and a second base64
 * line, the global signature over the signature and that comment, so the
 * comment cannot be changed without the secret key.
 *
 *   public key  "Ed" | keyid[8] | ed25519 pk[32]
 *   secret key  "Ed" | kdf "Sc" or "\0\0" | "B2" | salt[32] | opslimit[8] | memlimit[8]
 *               | ( keyid[8] | ed25519 sk[64] | BLAKE2b-256("Ed" | keyid | sk)[32] )
 *               the part in parentheses XORed with scrypt(password) when kdf is "Sc"
 *   signature   "ED" | keyid[8] | ed25519(BLAKE2b-512(data))[64]   (prehashed, default)
 *               "Ed" | keyid[8] | ed25519(data)[64]                (legacy)
 *   global      ed25519(signature[64] | trusted comment)
 *
 * Numbers are little-endian; a key id is printed as the 64-bit number in
 * upper-case hex.  This file does no I/O: it is what the fuzzer exercises.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"
#include "bundle.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX	 "trusted comment: "

#define PUBKEY_RAW (2 + WARD_KEYID_BYTES + WARD_PUBKEY_BYTES)
#define SIG_RAW	   (2 + WARD_KEYID_BYTES + WARD_SIG_BYTES)
#define KEYNUM_SK  (WARD_KEYID_BYTES + WARD_SECKEY_BYTES + 32)
#define SALT_BYTES 32
#define SECKEY_RAW (2 + 2 + 2 + SALT_BYTES + 8 + 8 + KEYNUM_SK)
#define OFF_SALT   6
#define OFF_OPS	   (OFF_SALT + SALT_BYTES)
#define OFF_MEM	   (OFF_OPS + 8)
#define OFF_KEYNUM (OFF_MEM + 8)

/* A key file may ask for any scrypt cost; refuse the absurd ones instead of
 * letting a hostile file make ward allocate without bound. */
#define KDF_MEMLIMIT_MAX (2ULL << 30)
#define KDF_OPSLIMIT_MAX (1ULL << 33)

const struct ward_kdf ward_kdf_sensitive = {
	.opslimit = 33554432ULL,   /* crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE */
	.memlimit = 1073741824ULL, /* ..._MEMLIMIT_SENSITIVE */
};
const struct ward_kdf ward_kdf_interactive = {
	.opslimit = 524288ULL,	 /* ..._OPSLIMIT_INTERACTIVE */
	.memlimit = 16777216ULL, /* ..._MEMLIMIT_INTERACTIVE */
};

static int crypto_ready(ward_error_t *err)
{
	if (sodium_init() < 0)
		return ward_error_set(err, EIO, "libsodium could not be initialised");
	return 0;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void ward_keyid_hex(const uint8_t id[WARD_KEYID_BYTES], char out[WARD_KEYID_HEXLEN])
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < WARD_KEYID_BYTES; i++) {
		uint8_t b = id[WARD_KEYID_BYTES - 1 - i];

		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	out[16] = '\0';
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

int ward_keyid_parse(const char *hex, uint8_t id[WARD_KEYID_BYTES])
{
	int i;

	if (hex == NULL || strlen(hex) != 16)
		return -EINVAL;
	for (i = 0; i < WARD_KEYID_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		id[WARD_KEYID_BYTES - 1 - i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ------------------------------------------------------------ lines and base64 */

struct line {
	const char *s;
	size_t len;
};

/* Split text into at most max lines (a trailing '\r' is dropped, as minisign
 * does).  Returns the number of lines, or -1 when there are more than max
 * non-empty lines. */
static int split_lines(const char *text, size_t len, struct line *lines, int max)
{
	size_t pos = 0;
	int n = 0;

	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;

		pos += l + (nl ? 1 : 0);
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (n == max) {
			if (l == 0)
				continue; /* trailing empty lines are fine */
			return -1;
		}
		lines[n].s = s;
		lines[n].len = l;
		n++;
	}
	/* Drop empty lines at the end. */
	while (n > 0 && lines[n - 1].len == 0)
		n--;
	return n;
}

static bool has_prefix(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

static bool text_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || s[i] == '\n' || s[i] == '\r')
			return false;
	return true;
}

/* Decode exactly want bytes of standard base64. */
static int b64_decode(const struct line *l, uint8_t *out, size_t want, const char *origin,
		      const char *what, ward_error_t *err)
{
	uint8_t buf[256];
	const char *end = NULL;
	size_t got = 0;

	if (l->len == 0 || l->len > 400)
		return ward_error_set(err, EINVAL, "%s: the %s line is not base64 of a minisign %s",
				      origin, what, what);
	if (sodium_base642bin(buf, sizeof(buf), l->s, l->len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != l->s + l->len)
		return ward_error_set(err, EINVAL, "%s: the %s line is not valid base64", origin,
				      what);
	if (got != want)
		return ward_error_set(err, EINVAL,
				      "%s: the %s is %zu bytes long, a minisign %s is %zu (is this "
				      "the right kind of file?)",
				      origin, what, got, what, want);
	memcpy(out, buf, want);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

static char *b64_encode(const uint8_t *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = ward_xmalloc(n);

	sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* ------------------------------------------------------------ public keys */

static int pubkey_decode(const struct line *l, const char *origin, struct ward_pubkey *pk,
			 ward_error_t *err)
{
	uint8_t raw[PUBKEY_RAW];

	if (b64_decode(l, raw, sizeof(raw), origin, "public key", err) < 0)
		return -1;
	if (memcmp(raw, "Ed", 2) != 0)
		return ward_error_set(err, EINVAL,
				      "%s: unsupported key algorithm \"%c%c\" (minisign keys are "
				      "\"Ed\": Ed25519)",
				      origin, raw[0] >= 0x20 && raw[0] < 0x7f ? raw[0] : '?',
				      raw[1] >= 0x20 && raw[1] < 0x7f ? raw[1] : '?');
	memcpy(pk->keyid, raw + 2, WARD_KEYID_BYTES);
	memcpy(pk->pk, raw + 2 + WARD_KEYID_BYTES, WARD_PUBKEY_BYTES);
	return 0;
}

int ward_pubkey_parse(const char *text, size_t len, const char *origin, struct ward_pubkey *pk,
		      ward_error_t *err)
{
	struct line lines[2];
	int n;

	if (len > WARD_SIGFILE_MAX)
		return ward_error_set(err, EFBIG, "%s: too large for a public key", origin);
	n = split_lines(text, len, lines, 2);
	if (n == 1 && !has_prefix(&lines[0], UNTRUSTED_PREFIX)) {
		/* A bare base64 key, as `minisign -P` takes it. */
		struct line l = lines[0];

		while (l.len > 0 && (l.s[0] == ' ' || l.s[0] == '\t')) {
			l.s++;
			l.len--;
		}
		while (l.len > 0 && (l.s[l.len - 1] == ' ' || l.s[l.len - 1] == '\t'))
			l.len--;
		return pubkey_decode(&l, origin, pk, err);
	}
	if (n != 2 || !has_prefix(&lines[0], UNTRUSTED_PREFIX))
		return ward_error_set(err, EINVAL,
				      "%s: not a minisign public key (expected an \"untrusted "
				      "comment:\" line and a base64 line)",
				      origin);
	if (lines[0].len > strlen(UNTRUSTED_PREFIX) + WARD_COMMENT_MAX)
		return ward_error_set(err, EINVAL, "%s: comment longer than %u bytes", origin,
				      WARD_COMMENT_MAX);
	return pubkey_decode(&lines[1], origin, pk, err);
}

char *ward_pubkey_base64(const struct ward_pubkey *pk)
{
	uint8_t raw[PUBKEY_RAW];

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->keyid, WARD_KEYID_BYTES);
	memcpy(raw + 2 + WARD_KEYID_BYTES, pk->pk, WARD_PUBKEY_BYTES);
	return b64_encode(raw, sizeof(raw));
}

char *ward_pubkey_format(const struct ward_pubkey *pk)
{
	cleanup_free char *b64 = ward_pubkey_base64(pk);
	char id[WARD_KEYID_HEXLEN];

	ward_keyid_hex(pk->keyid, id);
	return ward_xasprintf(UNTRUSTED_PREFIX "minisign public key %s\n%s\n", id, b64);
}

/* ------------------------------------------------------------ secret keys */

static int seckey_decode(const char *text, size_t len, const char *origin, uint8_t raw[SECKEY_RAW],
			 ward_error_t *err)
{
	struct line lines[2];
	int n;

	if (len > WARD_SIGFILE_MAX)
		return ward_error_set(err, EFBIG, "%s: too large for a secret key", origin);
	n = split_lines(text, len, lines, 2);
	if (n != 2 || !has_prefix(&lines[0], UNTRUSTED_PREFIX))
		return ward_error_set(err, EINVAL,
				      "%s: not a minisign secret key (expected an \"untrusted "
				      "comment:\" line and a base64 line)",
				      origin);
	if (b64_decode(&lines[1], raw, SECKEY_RAW, origin, "secret key", err) < 0)
		return -1;
	if (memcmp(raw, "Ed", 2) != 0)
		return ward_error_set(err, EINVAL, "%s: unsupported secret key algorithm", origin);
	if (memcmp(raw + 4, "B2", 2) != 0)
		return ward_error_set(err, EINVAL, "%s: unsupported checksum algorithm", origin);
	if (memcmp(raw + 2, "Sc", 2) != 0 && memcmp(raw + 2, "\0\0", 2) != 0)
		return ward_error_set(err, EINVAL,
				      "%s: unsupported key derivation (minisign uses scrypt, "
				      "\"Sc\", or none)",
				      origin);
	return 0;
}

int ward_seckey_encrypted(const char *text, size_t len, const char *origin, bool *encrypted,
			  ward_error_t *err)
{
	uint8_t raw[SECKEY_RAW];

	if (crypto_ready(err) < 0 || seckey_decode(text, len, origin, raw, err) < 0)
		return -1;
	*encrypted = memcmp(raw + 2, "Sc", 2) == 0;
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

static void seckey_checksum(const uint8_t keyid[WARD_KEYID_BYTES],
			    const uint8_t sk[WARD_SECKEY_BYTES], uint8_t out[32])
{
	uint8_t buf[2 + WARD_KEYID_BYTES + WARD_SECKEY_BYTES];

	memcpy(buf, "Ed", 2);
	memcpy(buf + 2, keyid, WARD_KEYID_BYTES);
	memcpy(buf + 2 + WARD_KEYID_BYTES, sk, WARD_SECKEY_BYTES);
	crypto_generichash(out, 32, buf, sizeof(buf), NULL, 0);
	sodium_memzero(buf, sizeof(buf));
}

static int kdf_stream(uint8_t *out, size_t outlen, const char *password, const uint8_t *salt,
		      uint64_t ops, uint64_t mem, const char *origin, ward_error_t *err)
{
	if (ops > KDF_OPSLIMIT_MAX || mem > KDF_MEMLIMIT_MAX)
		return ward_error_set(
			err, EINVAL,
			"%s: the key asks for an scrypt cost beyond what ward accepts "
			"(opslimit %llu, memlimit %llu bytes)",
			origin, (unsigned long long)ops, (unsigned long long)mem);
	if (crypto_pwhash_scryptsalsa208sha256(out, outlen, password, strlen(password), salt, ops,
					       (size_t)mem) != 0)
		return ward_error_set(err, ENOMEM,
				      "%s: deriving the key from the password failed (scrypt needs "
				      "%llu bytes of memory)",
				      origin, (unsigned long long)mem);
	return 0;
}

int ward_seckey_parse(const char *text, size_t len, const char *origin, const char *password,
		      struct ward_seckey *sk, ward_error_t *err)
{
	uint8_t raw[SECKEY_RAW], chk[32], pk[WARD_PUBKEY_BYTES], full[WARD_SECKEY_BYTES];
	uint8_t *keynum;
	bool encrypted;
	int rc = -1;
	size_t i;

	if (crypto_ready(err) < 0 || seckey_decode(text, len, origin, raw, err) < 0)
		return -1;
	keynum = raw + OFF_KEYNUM;
	encrypted = memcmp(raw + 2, "Sc", 2) == 0;
	if (encrypted) {
		uint8_t stream[KEYNUM_SK];

		if (password == NULL) {
			ward_error_set(err, ENOKEY,
				       "%s: the secret key is encrypted: a password "
				       "is needed",
				       origin);
			goto out;
		}
		if (kdf_stream(stream, sizeof(stream), password, raw + OFF_SALT,
			       get_le64(raw + OFF_OPS), get_le64(raw + OFF_MEM), origin, err) < 0)
			goto out;
		for (i = 0; i < KEYNUM_SK; i++)
			keynum[i] ^= stream[i];
		sodium_memzero(stream, sizeof(stream));
	}
	seckey_checksum(keynum, keynum + WARD_KEYID_BYTES, chk);
	/* `minisign -G -W` leaves the checksum of an unencrypted key zero. */
	if (sodium_memcmp(chk, keynum + WARD_KEYID_BYTES + WARD_SECKEY_BYTES, 32) != 0 &&
	    (encrypted || !sodium_is_zero(keynum + WARD_KEYID_BYTES + WARD_SECKEY_BYTES, 32))) {
		if (encrypted)
			ward_error_set(err, EKEYREJECTED, "%s: wrong password for this secret key",
				       origin);
		else
			ward_error_set(err, EINVAL, "%s: the secret key is corrupt (checksum)",
				       origin);
		goto out;
	}
	/* The second half of an Ed25519 secret key is its public key: check it
	 * against the seed, so a damaged key cannot make unverifiable signatures. */
	crypto_sign_seed_keypair(pk, full, keynum + WARD_KEYID_BYTES);
	if (sodium_memcmp(full, keynum + WARD_KEYID_BYTES, WARD_SECKEY_BYTES) != 0) {
		ward_error_set(err, EINVAL, "%s: the secret key is inconsistent (corrupt file?)",
			       origin);
		goto out;
	}
	memcpy(sk->keyid, keynum, WARD_KEYID_BYTES);
	memcpy(sk->sk, keynum + WARD_KEYID_BYTES, WARD_SECKEY_BYTES);
	rc = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(full, sizeof(full));
	return rc;
}

char *ward_seckey_format(const struct ward_seckey *sk, const char *password,
			 const struct ward_kdf *kdf, ward_error_t *err)
{
	uint8_t raw[SECKEY_RAW];
	uint8_t *keynum = raw + OFF_KEYNUM;
	char *b64, *out;
	size_t i;

	if (crypto_ready(err) < 0)
		return NULL;
	memset(raw, 0, sizeof(raw));
	memcpy(raw, "Ed", 2);
	memcpy(raw + 4, "B2", 2);
	memcpy(keynum, sk->keyid, WARD_KEYID_BYTES);
	memcpy(keynum + WARD_KEYID_BYTES, sk->sk, WARD_SECKEY_BYTES);
	seckey_checksum(sk->keyid, sk->sk, keynum + WARD_KEYID_BYTES + WARD_SECKEY_BYTES);
	if (password) {
		uint8_t stream[KEYNUM_SK];

		memcpy(raw + 2, "Sc", 2);
		randombytes_buf(raw + OFF_SALT, SALT_BYTES);
		put_le64(raw + OFF_OPS, kdf->opslimit);
		put_le64(raw + OFF_MEM, kdf->memlimit);
		if (kdf_stream(stream, sizeof(stream), password, raw + OFF_SALT, kdf->opslimit,
			       kdf->memlimit, "new key", err) < 0) {
			sodium_memzero(raw, sizeof(raw));
			return NULL;
		}
		for (i = 0; i < KEYNUM_SK; i++)
			keynum[i] ^= stream[i];
		sodium_memzero(stream, sizeof(stream));
	}
	b64 = b64_encode(raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	out = ward_xasprintf(UNTRUSTED_PREFIX "minisign %s secret key\n%s\n",
			     password ? "encrypted" : "unencrypted", b64);
	sodium_memzero(b64, strlen(b64));
	free(b64);
	return out;
}

void ward_seckey_public(const struct ward_seckey *sk, struct ward_pubkey *pk)
{
	memcpy(pk->keyid, sk->keyid, WARD_KEYID_BYTES);
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

void ward_seckey_wipe(struct ward_seckey *sk)
{
	sodium_memzero(sk, sizeof(*sk));
}

int ward_key_generate(struct ward_pubkey *pk, struct ward_seckey *sk, ward_error_t *err)
{
	if (crypto_ready(err) < 0)
		return -1;
	crypto_sign_keypair(pk->pk, sk->sk);
	randombytes_buf(sk->keyid, WARD_KEYID_BYTES);
	memcpy(pk->keyid, sk->keyid, WARD_KEYID_BYTES);
	return 0;
}

/* ------------------------------------------------------------ signatures */

void ward_signature_free(struct ward_signature *sig)
{
	if (sig == NULL)
		return;
	free(sig->untrusted_comment);
	free(sig->trusted_comment);
	sig->untrusted_comment = NULL;
	sig->trusted_comment = NULL;
}

int ward_signature_parse(const char *text, size_t len, const char *origin,
			 struct ward_signature *sig, ward_error_t *err)
{
	struct line lines[4];
	uint8_t raw[SIG_RAW];
	size_t up = strlen(UNTRUSTED_PREFIX), tp = strlen(TRUSTED_PREFIX);
	int n;

	memset(sig, 0, sizeof(*sig));
	if (len > WARD_SIGFILE_MAX)
		return ward_error_set(err, EFBIG, "%s: larger than %u bytes: not a signature",
				      origin, WARD_SIGFILE_MAX);
	n = split_lines(text, len, lines, 4);
	if (n != 4)
		return ward_error_set(err, EINVAL,
				      "%s: not a minisign signature (it has four lines: untrusted "
				      "comment, signature, trusted comment, global signature)",
				      origin);
	if (!has_prefix(&lines[0], UNTRUSTED_PREFIX))
		return ward_error_set(err, EINVAL,
				      "%s:1: expected \"untrusted comment: \" (not a minisign "
				      "signature)",
				      origin);
	if (!has_prefix(&lines[2], TRUSTED_PREFIX))
		return ward_error_set(err, EINVAL,
				      "%s:3: expected \"trusted comment: \" (a signature without a "
				      "trusted comment is signify's, which ward does not accept)",
				      origin);
	if (lines[0].len - up > WARD_COMMENT_MAX || !text_ok(lines[0].s, lines[0].len))
		return ward_error_set(err, EINVAL, "%s:1: invalid untrusted comment", origin);
	if (lines[2].len - tp > WARD_TRUSTED_COMMENT_MAX || !text_ok(lines[2].s, lines[2].len))
		return ward_error_set(err, EINVAL,
				      "%s:3: invalid trusted comment (at most %u bytes, one line)",
				      origin, WARD_TRUSTED_COMMENT_MAX);
	if (b64_decode(&lines[1], raw, sizeof(raw), origin, "signature", err) < 0)
		return -1;
	if (memcmp(raw, "ED", 2) == 0)
		sig->alg = WARD_SIG_PREHASHED;
	else if (memcmp(raw, "Ed", 2) == 0)
		sig->alg = WARD_SIG_LEGACY;
	else
		return ward_error_set(err, EINVAL,
				      "%s: unsupported signature algorithm (minisign's are \"ED\" "
				      "and \"Ed\")",
				      origin);
	memcpy(sig->keyid, raw + 2, WARD_KEYID_BYTES);
	memcpy(sig->sig, raw + 2 + WARD_KEYID_BYTES, WARD_SIG_BYTES);
	if (b64_decode(&lines[3], sig->global_sig, WARD_SIG_BYTES, origin, "global signature",
		       err) < 0)
		return -1;
	sig->untrusted_comment = strndup(lines[0].s + up, lines[0].len - up);
	sig->trusted_comment = strndup(lines[2].s + tp, lines[2].len - tp);
	if (sig->untrusted_comment == NULL || sig->trusted_comment == NULL)
		abort();
	return 0;
}

char *ward_signature_format(const struct ward_signature *sig)
{
	uint8_t raw[SIG_RAW];
	cleanup_free char *s1 = NULL, *s2 = NULL;

	memcpy(raw, sig->alg == WARD_SIG_PREHASHED ? "ED" : "Ed", 2);
	memcpy(raw + 2, sig->keyid, WARD_KEYID_BYTES);
	memcpy(raw + 2 + WARD_KEYID_BYTES, sig->sig, WARD_SIG_BYTES);
	s1 = b64_encode(raw, sizeof(raw));
	s2 = b64_encode(sig->global_sig, WARD_SIG_BYTES);
	return ward_xasprintf(UNTRUSTED_PREFIX "%s\n%s\n" TRUSTED_PREFIX "%s\n%s\n",
			      sig->untrusted_comment ? sig->untrusted_comment : "", s1,
			      sig->trusted_comment ? sig->trusted_comment : "", s2);
}

/* The signed message: the data itself (legacy) or its BLAKE2b-512. */
static const uint8_t *message(enum ward_sig_alg alg, const void *data, size_t len, uint8_t hash[64],
			      size_t *mlen)
{
	if (alg == WARD_SIG_LEGACY) {
		*mlen = len;
		return data;
	}
	crypto_generichash(hash, 64, data, len, NULL, 0);
	*mlen = 64;
	return hash;
}

static uint8_t *global_message(const uint8_t sig[WARD_SIG_BYTES], const char *comment, size_t *len)
{
	size_t cl = strlen(comment);
	uint8_t *m = ward_xmalloc(WARD_SIG_BYTES + cl);

	memcpy(m, sig, WARD_SIG_BYTES);
	memcpy(m + WARD_SIG_BYTES, comment, cl);
	*len = WARD_SIG_BYTES + cl;
	return m;
}

int ward_sign(const struct ward_seckey *sk, const void *data, size_t len, enum ward_sig_alg alg,
	      const char *trusted_comment, const char *untrusted_comment,
	      struct ward_signature *out, ward_error_t *err)
{
	uint8_t hash[64];
	const uint8_t *m;
	cleanup_free uint8_t *gm = NULL;
	size_t mlen, gl;

	memset(out, 0, sizeof(*out));
	if (crypto_ready(err) < 0)
		return -1;
	if (!text_ok(trusted_comment, strlen(trusted_comment)) ||
	    strlen(trusted_comment) > WARD_TRUSTED_COMMENT_MAX)
		return ward_error_set(err, EINVAL, "trusted comment: one line of at most %u bytes",
				      WARD_TRUSTED_COMMENT_MAX);
	if (untrusted_comment && (!text_ok(untrusted_comment, strlen(untrusted_comment)) ||
				  strlen(untrusted_comment) > WARD_COMMENT_MAX))
		return ward_error_set(err, EINVAL,
				      "untrusted comment: one line of at most %u "
				      "bytes",
				      WARD_COMMENT_MAX);
	out->alg = alg;
	memcpy(out->keyid, sk->keyid, WARD_KEYID_BYTES);
	m = message(alg, data, len, hash, &mlen);
	crypto_sign_detached(out->sig, NULL, m, mlen, sk->sk);
	gm = global_message(out->sig, trusted_comment, &gl);
	crypto_sign_detached(out->global_sig, NULL, gm, gl, sk->sk);
	out->trusted_comment = ward_xstrdup(trusted_comment);
	out->untrusted_comment = ward_xstrdup(
		untrusted_comment ? untrusted_comment : "signature from minisign secret key");
	return 0;
}

int ward_verify(const struct ward_pubkey *pk, const struct ward_signature *sig, const void *data,
		size_t len, ward_error_t *err)
{
	char want[WARD_KEYID_HEXLEN], got[WARD_KEYID_HEXLEN];
	uint8_t hash[64];
	const uint8_t *m;
	cleanup_free uint8_t *gm = NULL;
	size_t mlen, gl;

	if (crypto_ready(err) < 0)
		return -1;
	if (memcmp(pk->keyid, sig->keyid, WARD_KEYID_BYTES) != 0) {
		ward_keyid_hex(pk->keyid, want);
		ward_keyid_hex(sig->keyid, got);
		return ward_error_set(err, EKEYREJECTED,
				      "signed by key %s, not by the key given (%s)", got, want);
	}
	m = message(sig->alg, data, len, hash, &mlen);
	if (crypto_sign_verify_detached(sig->sig, m, mlen, pk->pk) != 0)
		return ward_error_set(err, EBADMSG,
				      "the signature does not match the signed file (changed "
				      "after signing, or a corrupt signature)");
	gm = global_message(sig->sig, sig->trusted_comment ? sig->trusted_comment : "", &gl);
	if (crypto_sign_verify_detached(sig->global_sig, gm, gl, pk->pk) != 0)
		return ward_error_set(err, EBADMSG,
				      "the trusted comment was changed after signing (global "
				      "signature does not verify)");
	return 0;
}

char *ward_trusted_comment_field(const char *comment, const char *key)
{
	size_t kl = strlen(key);
	const char *p = comment;

	while (p && *p) {
		const char *end = strchr(p, '\t');
		size_t fl = end ? (size_t)(end - p) : strlen(p);

		if (fl > kl && memcmp(p, key, kl) == 0 && p[kl] == ':') {
			char *v = strndup(p + kl + 1, fl - kl - 1);

			if (v == NULL)
				abort();
			return v;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}
