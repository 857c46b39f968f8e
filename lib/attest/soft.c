/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Software-rooted quotes, for hosts without a TPM.
 *
 * The "PCR" is the log's own replay, and a quote is a short text (the
 * qualifying data, the PCR index and value, the number of events) signed
 * with the host's Ed25519 key in minisign's format (so `minisign -V`
 * checks it too).  Whoever holds the key, root on the host, can sign any
 * log: such a quote says what that host's root reports, no more.  Every
 * output that carries one says so (WARD_ATTEST_SOFT_LABEL).
 *
 * The key is a minisign secret key without a password (a machine key, read
 * by the broker with nobody at a terminal), mode 0600 in a directory only
 * its owner may write, by default /var/lib/ward/attest/host.key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle/bundle.h"
#include "../util.h"
#include "attest.h"

#define SOFT_MAGIC "ward-quote 1\n"

static int key_read(const char *path, struct ward_seckey *sk, ward_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char buf[WARD_SIGFILE_MAX];
	ssize_t n;
	int r;

	if (fd < 0)
		return ward_error_sys(err, "the host key %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return ward_error_set(err, EPERM,
				      "the host key %s must be a file of uid %u that nobody else "
				      "can read or write (chmod 0600 %s)",
				      path, (unsigned)geteuid(), path);
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return ward_error_sys(err, "the host key %s", path);
	r = ward_seckey_parse(buf, (size_t)n, path, NULL, sk, err);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int key_get(const char *path, bool create, struct ward_seckey *sk, ward_error_t *err)
{
	struct ward_pubkey pk;
	cleanup_free char *text = NULL;
	cleanup_free char *dir = NULL;
	char *slash;
	int fd, r;

	if (key_read(path, sk, err) == 0)
		return 0;
	if (!create || (*err)->code != ENOENT)
		return -1;
	ward_error_free(err);
	dir = ward_xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (ward_mkdir_p(dir, 0700) < 0)
			return ward_error_sys(err, "cannot create %s", dir);
	}
	if (ward_key_generate(&pk, sk, err) < 0)
		return -1;
	text = ward_seckey_format(sk, NULL, &ward_kdf_interactive, err);
	if (text == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_error_sys(err, "cannot create the host key %s", path);
	r = ward_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ? -1 : 0;
	close(fd);
	explicit_bzero(text, strlen(text));
	if (r < 0)
		return ward_error_sys(err, "cannot write the host key %s", path);
	return 0;
}

int ward_soft_key_load(const char *path, bool create, ward_error_t *err)
{
	struct ward_seckey sk;
	int r = key_get(path, create, &sk, err);

	ward_seckey_wipe(&sk);
	return r;
}

int ward_soft_pub(const char *key_path, const char *out, ward_error_t *err)
{
	struct ward_seckey sk;
	struct ward_pubkey pk;
	cleanup_free char *text = NULL;

	if (key_get(key_path, true, &sk, err) < 0)
		return -1;
	ward_seckey_public(&sk, &pk);
	ward_seckey_wipe(&sk);
	text = ward_pubkey_format(&pk);
	return ward_write_file_atomic(out, text, strlen(text), 0644, true, err);
}

char *ward_soft_quote_text(const uint8_t *qual, size_t qual_len, unsigned pcr,
			   const uint8_t value[32], size_t n_events, size_t *len)
{
	char q[2 * WARD_ATTEST_NONCE_MAX + 1], v[WARD_ATTEST_HEX];
	char *t;

	ward_attest_hex(qual, qual_len, q);
	ward_attest_hex(value, 32, v);
	t = ward_xasprintf(SOFT_MAGIC "mode software\n"
				      "warning " WARD_ATTEST_SOFT_LABEL "\n"
				      "qualifying %s\npcr %u\nsha256 %s\nevents %zu\n",
			   q, pcr, v, n_events);
	*len = strlen(t);
	return t;
}

int ward_soft_sign(const char *key_path, const char *data, size_t len, char **sig,
		   ward_error_t *err)
{
	struct ward_seckey sk;
	struct ward_signature s = {0};
	int r;

	if (key_get(key_path, false, &sk, err) < 0)
		return ward_error_wrap(err, "software-rooted quote (create the key with ward "
					    "attest init)");
	r = ward_sign(&sk, data, len, WARD_SIG_PREHASHED,
		      "ward attest software-rooted quote: no TPM", "ward attest quote", &s, err);
	ward_seckey_wipe(&sk);
	if (r < 0)
		return -1;
	*sig = ward_signature_format(&s);
	ward_signature_free(&s);
	return 0;
}

int ward_soft_check(const char *pub_text, size_t pub_len, const char *msg, size_t msg_len,
		    const char *sig, size_t sig_len, struct ward_soft_quote *out, ward_error_t *err)
{
	struct ward_pubkey pk;
	struct ward_signature s = {0};
	cleanup_free char *body = NULL;
	cleanup_free char *q = NULL;
	cleanup_free char *pcr = NULL;
	cleanup_free char *v = NULL;
	ssize_t n;
	uint64_t p;
	int r;

	if (ward_pubkey_parse(pub_text, pub_len, "--ak", &pk, err) < 0)
		return -1;
	if (ward_signature_parse(sig, sig_len, WARD_QUOTE_SIG, &s, err) < 0)
		return ward_error_wrap(err, "the quote's signature");
	r = ward_verify(&pk, &s, msg, msg_len, err);
	ward_signature_free(&s);
	if (r < 0)
		return ward_error_wrap(err, "the quote is not signed by the key given with --ak "
					    "(an unknown key, or the quote was altered)");
	body = ward_xmalloc(msg_len + 1);
	memcpy(body, msg, msg_len);
	body[msg_len] = '\0';
	if (msg_len < strlen(SOFT_MAGIC) || memcmp(msg, SOFT_MAGIC, strlen(SOFT_MAGIC)) != 0)
		return ward_error_set(err, EBADMSG, WARD_QUOTE_MSG ": not a software quote");
	q = ward_attest_field(body, msg_len, "qualifying", NULL);
	pcr = ward_attest_field(body, msg_len, "pcr", NULL);
	v = ward_attest_field(body, msg_len, "sha256", NULL);
	if (q == NULL || pcr == NULL || v == NULL || ward_parse_u64(pcr, &p) < 0 || p > 23 ||
	    (n = ward_attest_unhex(q, out->qual, sizeof(out->qual))) < 0 ||
	    ward_attest_unhex(v, out->value, 32) != 32)
		return ward_error_set(err, EBADMSG, WARD_QUOTE_MSG ": malformed software quote");
	out->qual_len = (size_t)n;
	out->pcr = (unsigned)p;
	return 0;
}
