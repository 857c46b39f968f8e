/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Quotes: ward attest quote, and what api.attest hands an environment.
 *
 * A quote is taken under the log's lock, so the log it comes with is the
 * log the PCR was extended with, event for event.  Its files:
 *
 *   quote.msg    TPMS_ATTEST as the TPM signed it (software: a signed text)
 *   quote.sig    TPMT_SIGNATURE (software: a minisign signature)
 *   quote.pcrs   the quoted PCR, as `tpm2_quote -o` writes it (TPM only)
 *   eventlog     the measurement log
 *   kind         "tpm" or "software" (with what a software quote does not prove)
 *   qualifying   the qualifying data, hex: the nonce, or for api.attest the
 *                nonce bound to the asking environment's launch event
 *   event        which event the quote is about ("seq N", "env NAME", ...)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle/bundle.h"
#include "../util.h"
#include "attest.h"

#define STREAM_MAGIC "ward-attestation 1\n"

static const char *const file_names[] = {
	WARD_QUOTE_KIND, WARD_QUOTE_MSG,   WARD_QUOTE_SIG,    WARD_QUOTE_PCRS,
	WARD_QUOTE_LOG,	 WARD_QUOTE_EVENT, WARD_QUOTE_QUALIF,
};

static void add_file(struct ward_quote *q, const char *name, char *data, size_t len)
{
	q->files[q->n].name = name;
	q->files[q->n].data = data;
	q->files[q->n].len = len;
	q->n++;
}

void ward_quote_free(struct ward_quote *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->files[i].data);
	memset(q, 0, sizeof(*q));
}

static int slurp_at(int dirfd, const char *name, char **data, size_t *len, ward_error_t *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[8192];
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return ward_error_sys(err, "the TPM helper wrote no %s", name);
	while ((r = read(fd, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	*data = ward_xmalloc(n + 1);
	memcpy(*data, buf, n);
	*len = n;
	return 0;
}

static int tpm_quote(const struct ward_attest_config *c, const uint8_t *qual, size_t qual_len,
		     struct ward_quote *q, ward_error_t *err)
{
	cleanup_free char *tmp = ward_xasprintf("%s/quote.XXXXXX", c->dir);
	cleanup_free char *out = NULL;
	char handle[16], pcr[8], hex[2 * WARD_ATTEST_NONCE_MAX + 1];
	const char *argv[8];
	static const char *const names[] = {WARD_QUOTE_MSG, WARD_QUOTE_SIG, WARD_QUOTE_PCRS};
	cleanup_close int dfd = -1;
	size_t i;
	int r = -1;

	if (mkdtemp(tmp) == NULL)
		return ward_error_sys(err, "%s", tmp);
	snprintf(handle, sizeof(handle), "0x%08x", (unsigned)c->ak_handle);
	snprintf(pcr, sizeof(pcr), "%u", c->pcr);
	ward_attest_hex(qual, qual_len, hex);
	argv[0] = "quote";
	argv[1] = c->tcti;
	argv[2] = handle;
	argv[3] = pcr;
	argv[4] = hex;
	argv[5] = tmp;
	argv[6] = NULL;
	if (ward_attest_tpm(argv, &out, err) != 0) {
		if (!*err)
			ward_error_set(err, EIO, "TPM quote failed");
		ward_error_wrap(err, "quote with the AK at %s (TCTI %s; made by ward attest init)",
				handle, c->tcti);
		goto out;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		char *d;
		size_t n;

		if (dfd < 0 || slurp_at(dfd, names[i], &d, &n, err) < 0)
			goto out;
		add_file(q, names[i], d, n);
	}
	r = 0;
out:
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		cleanup_free char *p = ward_xasprintf("%s/%s", tmp, names[i]);

		unlink(p);
	}
	rmdir(tmp);
	return r;
}

int ward_attest_quote(const struct ward_attest_config *c, const uint8_t *nonce, size_t nonce_len,
		      const char *env, bool bind, uint64_t bind_seq, struct ward_quote *q,
		      ward_error_t *err)
{
	cleanup_close int dirfd = ward_attest_dir_open(c->dir, true, err);
	cleanup_close int lockfd = -1;
	cleanup_free char *data = NULL;
	cleanup_free char *origin = ward_xasprintf("%s/log", c->dir);
	struct ward_attest_log log;
	uint8_t qual[WARD_ATTEST_NONCE_MAX];
	size_t qual_len = nonce_len, len;
	char hex[2 * WARD_ATTEST_NONCE_MAX + 1];
	ssize_t at = -1;

	memset(q, 0, sizeof(*q));
	if (dirfd < 0)
		return -1;
	lockfd = ward_attest_lock(dirfd, true, err);
	if (lockfd < 0 || ward_attest_read_log(dirfd, &data, &len, err) < 0)
		return -1;
	if (ward_attest_log_parse(data, len, origin, &log, err) < 0)
		return -1;
	if (log.n == 0) {
		ward_attest_log_free(&log);
		return ward_error_set(err, ENOENT,
				      "%s is empty: no launch was measured yet (every `ward run` "
				      "of a bundle is)",
				      origin);
	}
	if (strcmp(log.mode, c->tcti ? "tpm" : "software") != 0) {
		ward_error_set(err, EINVAL,
			       "%s was measured %s, but this quote would be %s (TCTI from %s): "
			       "quote with the configuration the launches used",
			       origin, strcmp(log.mode, "tpm") == 0 ? "into a TPM" : "in software",
			       c->tcti ? "a TPM's" : "software-rooted", c->tcti_from);
		ward_attest_log_free(&log);
		return -1;
	}
	memcpy(qual, nonce, nonce_len);
	if (bind) {
		if (bind_seq >= log.n || log.ev[bind_seq].type != WARD_EVENT_LAUNCH) {
			ward_attest_log_free(&log);
			return ward_error_set(err, ENOENT, "event %llu is not in %s",
					      (unsigned long long)bind_seq, origin);
		}
		at = (ssize_t)bind_seq;
		/* The record that names the event lives beside the log: check
		 * that the event is the asking environment's own launch. */
		if (env) {
			cleanup_free char *name = ward_attest_field(
				log.ev[at].body, log.ev[at].body_len, "env", NULL);

			if (name == NULL || strcmp(name, env) != 0) {
				cleanup_free char *a = ward_escape(env, 100);
				cleanup_free char *b = ward_escape(name ? name : "-", 100);

				ward_attest_log_free(&log);
				return ward_error_set(err, EPERM,
						      "event %llu of %s is the launch of \"%s\", "
						      "not of \"%s\": the record that binds "
						      "environments to their events was altered",
						      (unsigned long long)bind_seq, origin, b, a);
			}
		}
		ward_attest_bind(nonce, nonce_len, bind_seq, log.ev[at].digest, qual);
		qual_len = WARD_ATTEST_DIGEST;
	} else if (env) {
		at = ward_attest_find_env(&log, env);
		if (at < 0) {
			cleanup_free char *esc = ward_escape(env, 100);

			ward_attest_log_free(&log);
			return ward_error_set(err, ENOENT,
					      "no launch of environment \"%s\" in %s (ward attest "
					      "log lists them)",
					      esc, origin);
		}
	}
	if (c->tcti) {
		if (tpm_quote(c, qual, qual_len, q, err) < 0) {
			ward_attest_log_free(&log);
			ward_quote_free(q);
			return -1;
		}
		add_file(q, WARD_QUOTE_KIND, ward_xstrdup("tpm\n"), 4);
	} else {
		size_t tlen;
		cleanup_free char *text =
			ward_soft_quote_text(qual, qual_len, c->pcr, log.replay, log.n, &tlen);
		char *sig = NULL;

		if (ward_soft_sign(c->key, text, tlen, &sig, err) < 0) {
			ward_attest_log_free(&log);
			return -1;
		}
		add_file(q, WARD_QUOTE_MSG, steal_pointer(&text), tlen);
		add_file(q, WARD_QUOTE_SIG, sig, strlen(sig));
		{
			char *k = ward_xstrdup("software\n" WARD_ATTEST_SOFT_LABEL "\n");

			add_file(q, WARD_QUOTE_KIND, k, strlen(k));
		}
		q->software = true;
	}
	{
		char *d = ward_xmalloc(log.good_end + 1);

		memcpy(d, data, log.good_end);
		add_file(q, WARD_QUOTE_LOG, d, log.good_end);
	}
	ward_attest_hex(qual, qual_len, hex);
	{
		char *t = ward_xasprintf("%s\n", hex);

		add_file(q, WARD_QUOTE_QUALIF, t, strlen(t));
	}
	if (at >= 0) {
		char dh[WARD_ATTEST_HEX];
		cleanup_free char *name =
			ward_attest_field_raw(log.ev[at].body, log.ev[at].body_len, "env", NULL);
		char *t;

		ward_attest_hex(log.ev[at].digest, 32, dh);
		t = ward_xasprintf("seq %zd\nenv %s\ndigest %s\nbound %s\n", at, name ? name : "-",
				   dh, bind ? "yes" : "no");
		add_file(q, WARD_QUOTE_EVENT, t, strlen(t));
	}
	ward_attest_log_free(&log);
	return 0;
}

int ward_quote_write_dir(const struct ward_quote *q, const char *dir, ward_error_t *err)
{
	cleanup_close int dfd = -1;
	size_t i;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "cannot create %s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return ward_error_sys(err, "%s", dir);
	/* Files are replaced in place: in a directory someone else may write,
	 * they could be links to files of ours. */
	{
		struct stat st;

		if (fstat(dfd, &st) < 0)
			return ward_error_sys(err, "%s", dir);
		if (st.st_uid != geteuid() || (st.st_mode & 022)) {
			cleanup_free char *esc = ward_escape(dir, 300);

			return ward_error_set(
				err, EPERM,
				"--out %s: a directory of uid %u that nobody else can "
				"write is needed (it is uid %u's, mode %04o): give a "
				"new path",
				esc, (unsigned)geteuid(), (unsigned)st.st_uid,
				(unsigned)(st.st_mode & 07777));
		}
	}
	for (i = 0; i < q->n; i++) {
		int fd = openat(dfd, q->files[i].name,
				O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0)
			return ward_error_sys(err, "%s/%s", dir, q->files[i].name);
		if (ward_write_all(fd, q->files[i].data, q->files[i].len) < 0) {
			close(fd);
			return ward_error_sys(err, "%s/%s", dir, q->files[i].name);
		}
		close(fd);
	}
	return 0;
}

int ward_quote_write_stream(const struct ward_quote *q, int fd)
{
	size_t i;

	if (ward_write_all(fd, STREAM_MAGIC, strlen(STREAM_MAGIC)) < 0)
		return -1;
	for (i = 0; i < q->n; i++) {
		char head[64];
		int n = snprintf(head, sizeof(head), "file %s %zu\n", q->files[i].name,
				 q->files[i].len);

		if (ward_write_all(fd, head, (size_t)n) < 0 ||
		    ward_write_all(fd, q->files[i].data, q->files[i].len) < 0)
			return -1;
	}
	return ward_write_all(fd, "end\n", 4) < 0 ? -1 : 0;
}

/* A line of at most max bytes (without its newline), or -1. */
static ssize_t read_line(int fd, char *buf, size_t max)
{
	size_t n = 0;

	while (n < max) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n++;
	}
	return -1;
}

int ward_quote_read_stream(int fd, struct ward_quote *q, ward_error_t *err)
{
	char line[1100];
	size_t total = 0;

	memset(q, 0, sizeof(*q));
	if (read_line(fd, line, sizeof(line) - 1) < 0 || strcmp(line, "ward-attestation 1") != 0)
		return ward_error_set(err, EPROTO, "the broker's attestation stream is malformed");
	for (;;) {
		char name[32];
		size_t len, i, got = 0;
		const char *known = NULL;
		char *data;

		if (read_line(fd, line, sizeof(line) - 1) < 0)
			goto bad;
		if (strcmp(line, "end") == 0)
			return 0;
		if (strncmp(line, "error ", 6) == 0) {
			cleanup_free char *esc = ward_escape(line + 6, 900);

			ward_quote_free(q);
			return ward_error_set(err, EIO, "the broker: %s", esc);
		}
		if (sscanf(line, "file %31s %zu", name, &len) != 2)
			goto bad;
		for (i = 0; i < ARRAY_SIZE(file_names); i++)
			if (strcmp(name, file_names[i]) == 0)
				known = file_names[i];
		for (i = 0; i < q->n && known; i++)
			if (q->files[i].name == known)
				known = NULL;
		total += len;
		if (known == NULL || q->n >= ARRAY_SIZE(q->files) ||
		    total > WARD_ATTEST_LOG_MAX + (1u << 20))
			goto bad;
		data = ward_xmalloc(len + 1);
		while (got < len) {
			ssize_t r = read(fd, data + got, len - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				free(data);
				goto bad;
			}
			got += (size_t)r;
		}
		data[len] = '\0';
		add_file(q, known, data, len);
		if (strcmp(known, WARD_QUOTE_KIND) == 0 && strncmp(data, "software", 8) == 0)
			q->software = true;
	}
bad:
	ward_quote_free(q);
	return ward_error_set(err, EPROTO, "the broker's attestation stream is malformed or cut");
}
