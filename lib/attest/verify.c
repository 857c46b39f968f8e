/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward attest verify: is this quote fresh, signed by the host's AK, does
 * its log replay to the quoted PCR, and is the environment's launch the
 * one expected?
 *
 * The order matters: nothing in a quote means anything before its
 * signature is checked, so a bad signature (an unknown AK, an altered
 * quote) stops there.  After it, every difference is collected and named:
 * the nonce, the replay, the environment, the bundle, the entitlements.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle/bundle.h"
#include "../util.h"
#include "attest.h"

struct sbuf {
	char *p;
	size_t len;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	b->p = ward_xrealloc(b->p, b->len + (size_t)n + 1);
	memcpy(b->p + b->len, s, (size_t)n + 1);
	b->len += (size_t)n;
	free(s);
}

/* A file of the quote (or the AK): what the attested host sent, so a
 * regular file of bounded size, never a FIFO or device to wait on. */
static int read_in(const char *dir, const char *name, bool optional, char **data, size_t *len,
		   ward_error_t *err)
{
	cleanup_free char *path = dir ? ward_xasprintf("%s/%s", dir, name) : ward_xstrdup(name);
	size_t max = strcmp(name, WARD_QUOTE_LOG) == 0 ? WARD_ATTEST_LOG_MAX : (1u << 20);
	cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	size_t done = 0;
	char *buf;

	*data = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT && optional)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		cleanup_free char *esc = ward_escape(path, 300);

		return ward_error_set(err, EINVAL, "%s: not a regular file of at most %zu bytes",
				      esc, max);
	}
	buf = ward_xmalloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	buf[done] = '\0';
	*data = buf;
	*len = done;
	return 0;
}

/* The TPM path: the helper checks the signature with OpenSSL and reads
 * TPMS_ATTEST; it prints the qualifying data and the quoted PCR. */
static int tpm_check(const struct ward_attest_expect *x, uint8_t *qual, size_t *qual_len,
		     unsigned *pcr, uint8_t value[32], char **info, ward_error_t *err)
{
	cleanup_free char *msg = ward_xasprintf("%s/" WARD_QUOTE_MSG, x->quote_dir);
	cleanup_free char *sig = ward_xasprintf("%s/" WARD_QUOTE_SIG, x->quote_dir);
	cleanup_free char *pcrs = ward_xasprintf("%s/" WARD_QUOTE_PCRS, x->quote_dir);
	cleanup_free char *out = NULL;
	cleanup_free char *q = NULL;
	cleanup_free char *p = NULL;
	const char *argv[] = {"check", x->ak, msg, sig, pcrs, NULL};
	char hex[80];
	unsigned idx;
	ssize_t n;
	int r = ward_attest_tpm(argv, &out, err);

	if (r != 0) {
		if (r > 0)
			ward_error_set(err, EIO, "the TPM helper could not check the quote");
		return -1;
	}
	q = ward_attest_tpm_field(out, "qualifying");
	p = ward_attest_tpm_field(out, "pcr");
	if (q == NULL || p == NULL || sscanf(p, "%u %79s", &idx, hex) != 2 ||
	    ward_attest_unhex(hex, value, 32) != 32 ||
	    (n = ward_attest_unhex(q, qual, WARD_ATTEST_NONCE_MAX)) < 0)
		return ward_error_set(err, EPROTO, "ward-tpm check: malformed answer");
	*qual_len = (size_t)n;
	*pcr = idx;
	*info = ward_attest_tpm_field(out, "clock");
	return 0;
}

static bool has_prefix_line(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The entitlements of an event that are not defaults: "text by=who". */
static size_t event_grants(const struct ward_attest_event *e, char ***texts, char ***bys)
{
	size_t pos = 0, n = 0;
	char *raw;

	*texts = NULL;
	*bys = NULL;
	while ((raw = ward_attest_field_raw(e->body, e->body_len, "entitlement", &pos))) {
		char *sp = strstr(raw, " by=");

		if (sp) {
			*sp = '\0';
			if (strcmp(sp + 4, "default") != 0) {
				*texts = ward_xrealloc(*texts, (n + 1) * sizeof(char *));
				*bys = ward_xrealloc(*bys, (n + 1) * sizeof(char *));
				(*texts)[n] = ward_attest_unescape(raw, strlen(raw));
				(*bys)[n] = ward_attest_unescape(sp + 4, strlen(sp + 4));
				n++;
			}
		}
		free(raw);
	}
	return n;
}

static void check_bundle(const struct ward_attest_expect *x, const struct ward_attest_event *e,
			 struct sbuf *diff)
{
	struct ward_bundle b = {.fd = -1};
	ward_error_t err = NULL;
	cleanup_free char *man = ward_attest_field(e->body, e->body_len, "manifest", NULL);
	cleanup_free char *root = ward_attest_field(e->body, e->body_len, "rootfs", NULL);
	cleanup_free char *bname = ward_attest_field(e->body, e->body_len, "bundle", NULL);
	cleanup_free char *esc = ward_escape(x->bundle, 300);
	char hex[WARD_ATTEST_HEX], want[80];
	uint8_t d[32];

	if (ward_bundle_open(x->bundle, &b, &err) < 0) {
		sb_printf(diff, "  --expect-bundle %s: %s\n", esc, err->msg);
		ward_error_free(&err);
		return;
	}
	if (man == NULL) {
		sb_printf(diff,
			  "  bundle differs: the launch was not of a bundle (a manifest run), "
			  "%s is one\n",
			  esc);
		goto out;
	}
	ward_attest_sha256(b.manifest_text, b.manifest_len, d);
	ward_attest_hex(d, 32, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	if (strcmp(man, want) != 0)
		sb_printf(diff,
			  "  bundle digest differs: the launch ran the manifest %s (bundle "
			  "\"%s\"), %s has %s\n",
			  man, bname ? bname : "-", esc, want);
	ward_attest_hex(b.digest, 32, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	if (root == NULL || strcmp(root, want) != 0)
		sb_printf(diff, "  root filesystem digest differs: the launch ran %s, %s has %s\n",
			  root ? root : "-", esc, want);
out:
	ward_bundle_close(&b);
}

static void check_policy(const struct ward_attest_expect *x, const struct ward_attest_event *e,
			 struct sbuf *diff)
{
	char **texts, **bys;
	size_t n = event_grants(e, &texts, &bys), i, j;

	for (i = 0; i < n; i++) {
		bool found = false;

		for (j = 0; j < x->n_policy && !found; j++)
			found = strcmp(texts[i], x->policy[j]) == 0;
		if (!found) {
			cleanup_free char *t = ward_escape(texts[i], 300);
			cleanup_free char *b = ward_escape(bys[i], 100);

			sb_printf(diff, "  entitlement not expected: %s (granted by %s)\n", t, b);
		}
	}
	for (j = 0; j < x->n_policy; j++) {
		bool found = false;

		for (i = 0; i < n && !found; i++)
			found = strcmp(texts[i], x->policy[j]) == 0;
		if (!found) {
			cleanup_free char *t = ward_escape(x->policy[j], 300);

			sb_printf(diff, "  expected entitlement absent: %s\n", t);
		}
	}
	for (i = 0; i < n; i++) {
		free(texts[i]);
		free(bys[i]);
	}
	free(texts);
	free(bys);
}

static void describe(const struct ward_attest_event *e, struct sbuf *r)
{
	static const char *const keys[] = {"env",    "bundle", "bundle-version", "manifest",
					   "rootfs", "signer", "decision",	 "entitlement",
					   "option", "arg",    "setenv",	 "cwd",
					   "ward",   NULL};
	size_t i;

	for (i = 0; keys[i]; i++) {
		size_t pos = 0;
		char *raw;

		while ((raw = ward_attest_field_raw(e->body, e->body_len, keys[i], &pos))) {
			/* Escaped as the event writes values: printable as is. */
			sb_printf(r, "  %s %s\n", keys[i], raw);
			free(raw);
		}
	}
}

int ward_attest_verify(const struct ward_attest_expect *x, char **report, ward_error_t *err)
{
	cleanup_free char *ak = NULL;
	cleanup_free char *logdata = NULL;
	cleanup_free char *evfile = NULL;
	cleanup_free char *info = NULL;
	cleanup_free char *origin = ward_xasprintf("%s/" WARD_QUOTE_LOG, x->quote_dir);
	struct sbuf diff = {0}, rep = {0};
	struct ward_attest_log log = {0};
	uint8_t qual[WARD_ATTEST_NONCE_MAX], value[32];
	size_t ak_len, log_len, ev_len, qual_len = 0;
	unsigned pcr = 0;
	bool software, bound = false, log_ok = false;
	ssize_t subject = -1;
	const char *how = "bound to the quote";
	char hex[WARD_ATTEST_HEX], hex2[WARD_ATTEST_HEX];
	int rc = -1;

	*report = NULL;
	if (read_in(NULL, x->ak, false, &ak, &ak_len, err) < 0)
		return ward_error_wrap(err, "--ak");
	software = !has_prefix_line(ak, "-----BEGIN PUBLIC KEY-----");
	if (software) {
		cleanup_free char *msg = NULL;
		cleanup_free char *sig = NULL;
		size_t ml, sl;
		struct ward_soft_quote sq;

		if (read_in(x->quote_dir, WARD_QUOTE_MSG, false, &msg, &ml, err) < 0 ||
		    read_in(x->quote_dir, WARD_QUOTE_SIG, false, &sig, &sl, err) < 0)
			return -1;
		if (ward_soft_check(ak, ak_len, msg, ml, sig, sl, &sq, err) < 0)
			return -1;
		memcpy(qual, sq.qual, sq.qual_len);
		qual_len = sq.qual_len;
		pcr = sq.pcr;
		memcpy(value, sq.value, 32);
		sb_printf(&rep, "%s\n", WARD_ATTEST_SOFT_LABEL);
	} else {
		static const char *const files[] = {WARD_QUOTE_MSG, WARD_QUOTE_SIG,
						    WARD_QUOTE_PCRS};
		size_t i;

		/* ward-tpm reads them: checked here first. */
		for (i = 0; i < ARRAY_SIZE(files); i++) {
			cleanup_free char *d = NULL;
			size_t n;

			if (read_in(x->quote_dir, files[i], false, &d, &n, err) < 0)
				return -1;
		}
		if (tpm_check(x, qual, &qual_len, &pcr, value, &info, err) < 0)
			return -1;
	}
	ward_attest_hex(value, 32, hex);
	sb_printf(&rep, "quote: %s, signed by the key of %s; PCR %u = %s\n",
		  software ? "software-rooted" : "TPM", x->ak, pcr, hex);
	if (info)
		sb_printf(&rep, "  TPM clock %s\n", info);
	if (!software && (pcr == 16 || pcr == 23)) {
		sb_printf(&rep, "note: " WARD_ATTEST_RESETTABLE_NOTE "\n", pcr);
	}

	/* The log. */
	if (read_in(x->quote_dir, WARD_QUOTE_LOG, false, &logdata, &log_len, err) < 0)
		goto out;
	{
		ward_error_t perr = NULL;

		if (ward_attest_log_parse(logdata, log_len, origin, &log, &perr) < 0) {
			sb_printf(&diff, "  the event log does not replay: %s\n", perr->msg);
			ward_error_free(&perr);
		} else if (log.n == 0) {
			sb_printf(&diff, "  the event log is empty\n");
		} else {
			ward_attest_hex(log.replay, 32, hex2);
			if (log.pcr != pcr)
				sb_printf(
					&diff,
					"  the event log extends PCR %u, the quote is of PCR %u\n",
					log.pcr, pcr);
			else if (memcmp(log.replay, value, 32) != 0)
				sb_printf(
					&diff,
					"  the event log does not replay to the quoted PCR %u: its "
					"%zu events give %s, the quote says %s (events edited, "
					"added or removed, or a log from elsewhere)\n",
					pcr, log.n, hex2, hex);
			else
				log_ok = true;
			if (strcmp(log.mode, software ? "software" : "tpm") != 0)
				sb_printf(&diff,
					  "  the event log was measured %s, the quote is %s\n",
					  log.mode, software ? "software-rooted" : "a TPM's");
			if (log.torn)
				sb_printf(&rep,
					  "  (the log ends with %zu bytes of an event that was "
					  "never measured, ignored)\n",
					  log.torn);
		}
	}
	if (log_ok)
		sb_printf(&rep, "log: %zu events replay to the quoted PCR (%s)\n", log.n, log.mode);

	/* Fresh, and whose: the qualifying data is the nonce, or the nonce
	 * bound to the asking environment's launch event. */
	if (read_in(x->quote_dir, WARD_QUOTE_EVENT, true, &evfile, &ev_len, err) < 0)
		goto out;
	if (qual_len == x->nonce_len && memcmp(qual, x->nonce, qual_len) == 0) {
		sb_printf(&rep, "nonce: matches (a quote asked for by the operator)\n");
	} else {
		size_t i;

		for (i = 0; i < log.n && qual_len == 32 && subject < 0; i++) {
			uint8_t b[32];

			if (log.ev[i].type != WARD_EVENT_LAUNCH)
				continue;
			ward_attest_bind(x->nonce, x->nonce_len, i, log.ev[i].digest, b);
			if (memcmp(b, qual, 32) == 0)
				subject = (ssize_t)i;
		}
		if (subject >= 0) {
			bound = true;
			sb_printf(&rep,
				  "nonce: matches, bound to event %zd (asked for by that "
				  "environment through api.attest)\n",
				  subject);
		} else {
			char q[2 * WARD_ATTEST_NONCE_MAX + 1], n[2 * WARD_ATTEST_NONCE_MAX + 1];

			ward_attest_hex(qual, qual_len, q);
			ward_attest_hex(x->nonce, x->nonce_len, n);
			sb_printf(&diff,
				  "  wrong nonce: the quote answers %s, not the nonce %s (an old "
				  "quote replayed, one made for another verifier, or a log that is "
				  "not the one it was bound to)\n",
				  q, n);
		}
	}

	/* Which launch. */
	if (log.n) {
		if (bound) {
			cleanup_free char *name = ward_attest_field(
				log.ev[subject].body, log.ev[subject].body_len, "env", NULL);

			if (x->env && (name == NULL || strcmp(name, x->env) != 0)) {
				cleanup_free char *a = ward_escape(name ? name : "-", 100);
				cleanup_free char *b = ward_escape(x->env, 100);

				sb_printf(&diff,
					  "  the quote was asked for by environment \"%s\" (event "
					  "%zd), not \"%s\"\n",
					  a, subject, b);
			}
		} else if (x->env) {
			subject = ward_attest_find_env(&log, x->env);
			how = "the last launch of that environment in the log";
			if (subject < 0) {
				cleanup_free char *b = ward_escape(x->env, 100);

				sb_printf(&diff, "  no launch of environment \"%s\" in the log\n",
					  b);
			}
		} else {
			subject = ward_attest_find_env(&log, NULL);
			how = "the last launch in the log; --env NAME chooses one";
			if (evfile) {
				unsigned long long s;

				/* Not signed: it only chooses which event to
				 * show and check, among events the quote covers. */
				if (sscanf(evfile, "seq %llu", &s) == 1 && s < log.n &&
				    log.ev[s].type == WARD_EVENT_LAUNCH) {
					subject = (ssize_t)s;
					how = "named by the quote's event file, which is not "
					      "signed; --env NAME chooses one";
				}
			}
			if (subject < 0)
				sb_printf(&diff, "  the log holds no launch\n");
		}
	}
	if (subject >= 0) {
		const struct ward_attest_event *e = &log.ev[subject];

		ward_attest_hex(e->digest, 32, hex);
		sb_printf(&rep, "launch: event %zd, sha256:%s (%s)\n", subject, hex, how);
		describe(e, &rep);
		if (x->bundle)
			check_bundle(x, e, &diff);
		if (x->any_policy)
			check_policy(x, e, &diff);
	}
	if (diff.len) {
		ward_error_set(err, EBADMSG, "the quote does not verify:\n%.*s", (int)diff.len - 1,
			       diff.p);
		goto out;
	}
	*report = steal_pointer(&rep.p);
	rc = 0;
out:
	free(diff.p);
	free(rep.p);
	ward_attest_log_free(&log);
	return rc;
}
